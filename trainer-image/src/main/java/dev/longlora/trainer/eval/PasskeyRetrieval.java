package dev.longlora.trainer.eval;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.generate.GreedyDecoding;
import dev.longlora.trainer.model.KvCache;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * LongLoRA's passkey-retrieval evaluation: per length, {@code trials} prompts with a random key (1..50000) at a random
 * depth; the model continues each by greedy decoding (KV cache on the model's backend, full attention, the model's PI
 * factor) for as many tokens as the answer has, and a trial counts when the decoded text, trimmed, is exactly the key.
 */
public final class PasskeyRetrieval {
    private PasskeyRetrieval() {}

    public static List<PasskeyTrial> run(
            LlamaModel model,
            Tokenizer tokenizer,
            int[] lengths,
            int trials,
            long seed,
            Consumer<PasskeyTrial> onTrial) {
        if (trials < 1) throw new ConfigException("--trials must be at least 1, got " + trials);
        if (lengths.length == 0) throw new ConfigException("--lengths names no length");
        int longest = 0;
        for (int l : lengths) {
            if (l < 1) throw new ConfigException("--lengths: " + l + " is not a positive length");
            longest = Math.max(longest, l);
        }
        int answerTokens = tokenizer.encode(" " + PasskeyPrompts.MAX_KEY).length + 1;
        List<PasskeyTrial> out = new ArrayList<>();
        // One cache, sized for the longest prompt, serves every trial (each starts it empty).
        try (KvCache cache = model.newKvCache(longest + answerTokens)) {
            for (int length : lengths) {
                // One stream per length, so a length's trials do not depend on which other lengths were asked for.
                SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + length);
                for (int t = 0; t < trials; t++) {
                    int key = rng.nextInt(1, PasskeyPrompts.MAX_KEY + 1);
                    double depth = rng.nextDouble();
                    PasskeyCase c = PasskeyPrompts.build(tokenizer, length, depth, key);
                    int want = tokenizer.encode(" " + c.answer()).length;
                    int[] generated = GreedyDecoding.generate(model, cache, c.tokens(), want, tokenizer.eos());
                    String text = tokenizer.decode(generated).trim();
                    PasskeyTrial trial =
                            new PasskeyTrial(length, c.tokens().length, key, depth, text, text.equals(c.answer()));
                    out.add(trial);
                    if (onTrial != null) onTrial.accept(trial);
                }
            }
        }
        return out;
    }

    /** Accuracy per requested length, in the order the lengths were given. */
    public static List<PasskeyLengthResult> summarize(int[] lengths, List<PasskeyTrial> trials) {
        List<PasskeyLengthResult> out = new ArrayList<>();
        for (int length : lengths) {
            int n = 0, correct = 0;
            long tokens = 0;
            for (PasskeyTrial t : trials) {
                if (t.length() != length) continue;
                n++;
                tokens += t.promptTokens();
                if (t.correct()) correct++;
            }
            out.add(new PasskeyLengthResult(length, n, correct, n == 0 ? 0 : (int) (tokens / n)));
        }
        return out;
    }
}
