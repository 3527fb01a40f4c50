package dev.longlora.trainer.eval;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.data.EvalWindows;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.data.VocabularyCheck;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import java.util.function.LongConsumer;

/**
 * Perplexity with LongLoRA's protocol (longlora-method.md section 5): windows of {@code seqLen} tokens starting at
 * 0, stride, 2*stride, ... while start < length - seqLen; each window's loss is the mean next-token loss inside it;
 * the result is the mean of the window losses and ppl = exp(mean). Full attention unless told otherwise.
 */
public final class PerplexityEvaluator {
    private PerplexityEvaluator() {}

    public static PerplexityResult evaluate(
            LlamaModel model,
            TokenSource tokens,
            int seqLen,
            AttentionSpec attention,
            int stride,
            LongConsumer onWindowDone) {
        if (seqLen < 2) throw new ConfigException("--seq-len=" + seqLen + " must be at least 2");
        if (stride < 1) throw new ConfigException("stride " + stride + " must be positive");
        attention.validate(seqLen);
        long windows = EvalWindows.count(tokens.length(), seqLen, stride);
        if (windows == 0) {
            throw new FormatException(tokens.description() + ": has " + tokens.length()
                    + " tokens; evaluating at --seq-len " + seqLen + " needs more than " + seqLen);
        }
        int vocab = model.config().vocabSize();
        double sum = 0;
        for (long w = 0; w < windows; w++) {
            long start = w * stride;
            int[] window = tokens.slice(start, seqLen);
            VocabularyCheck.require(window, start, vocab, tokens);
            double loss = model.loss(window, window, attention);
            if (!Double.isFinite(loss)) {
                throw new NonFiniteLossException("the loss of the window at token " + start + " of "
                        + tokens.description() + " is " + loss + ": the model's weights or the adapter are broken");
            }
            sum += loss;
            if (onWindowDone != null) onWindowDone.accept(w + 1);
        }
        model.releaseWorkspace();
        double mean = sum / windows;
        return new PerplexityResult(
                mean,
                Math.exp(mean),
                windows,
                seqLen,
                stride,
                attention.toString(),
                model.ropeScalingFactor(),
                tokens.length());
    }
}
