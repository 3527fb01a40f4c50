package dev.longlora.trainer.eval;

import dev.longlora.contract.ConfigException;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.ResultsReport;
import dev.longlora.trainer.data.EvalWindows;
import dev.longlora.trainer.data.TokenRange;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A job's evaluation (job.json's {@code evaluation}): perplexity at each length with LongLoRA's protocol
 * ({@link PerplexityEvaluator}: full attention, windows every {@link EvalWindows#DEFAULT_STRIDE} tokens) over at most
 * {@code maxWindows} windows of the evaluation text, then passkey retrieval at the target length. Sized to stay
 * small: a length the text is too short for, or a target length too short for a passkey prompt, is skipped with a
 * log line instead of failing a job whose adapter is already published.
 */
public final class JobEvaluation {
    private JobEvaluation() {}

    /** What was measured, in the report's terms. */
    public record Outcome(List<ResultsReport.Perplexity> perplexity, List<ResultsReport.Passkey> passkey) {}

    /** {@code tokenizer} null: the model has none (token-file data), so no passkey prompts. */
    public static Outcome run(
            LlamaModel model,
            Tokenizer tokenizer,
            TokenSource text,
            JobConfig.Evaluation evaluation,
            int targetLength,
            long seed,
            Consumer<String> log) {
        int stride = EvalWindows.DEFAULT_STRIDE;
        List<ResultsReport.Perplexity> perplexity = new ArrayList<>();
        for (int length : evaluation.lengths()) {
            if (EvalWindows.count(text.length(), length, stride) == 0) {
                log.accept("evaluation: perplexity at " + length + " skipped: " + text.description() + " has "
                        + text.length() + " tokens, a window needs " + (length + 1)
                        + " (raise evaluation.heldOutFraction or give evaluation.path)");
                continue;
            }
            // the first maxWindows windows of LongLoRA's protocol: count(tokens, length, stride) == maxWindows
            long needed = length + (long) (evaluation.maxWindows() - 1) * stride + 1;
            TokenSource bounded = TokenRange.of(text, 0, Math.min(text.length(), needed));
            long started = System.nanoTime();
            PerplexityResult r =
                    PerplexityEvaluator.evaluate(model, bounded, length, AttentionSpec.full(), stride, null);
            perplexity.add(new ResultsReport.Perplexity(length, r.ppl()));
            log.accept(String.format(
                    Locale.ROOT,
                    "evaluation: perplexity %.4f at %d (loss %.6f, %d windows, PI factor %s, %.1f s)",
                    r.ppl(),
                    length,
                    r.loss(),
                    r.windows(),
                    r.ropeFactor(),
                    (System.nanoTime() - started) / 1e9));
        }
        List<ResultsReport.Passkey> passkey = new ArrayList<>();
        if (evaluation.passkeyTrials() > 0 && tokenizer == null) {
            log.accept("evaluation: passkey retrieval skipped: the model has no tokenizer to write prompts with");
        } else if (evaluation.passkeyTrials() > 0) {
            try {
                PasskeyPrompts.build(tokenizer, targetLength, 0.5, 1);
            } catch (ConfigException e) {
                log.accept("evaluation: passkey retrieval at " + targetLength + " skipped: " + e.getMessage());
                return new Outcome(perplexity, passkey);
            }
            long started = System.nanoTime();
            int[] lengths = {targetLength};
            List<PasskeyTrial> trials =
                    PasskeyRetrieval.run(model, tokenizer, lengths, evaluation.passkeyTrials(), seed, null);
            PasskeyLengthResult r = PasskeyRetrieval.summarize(lengths, trials).getFirst();
            passkey.add(new ResultsReport.Passkey(targetLength, r.accuracy()));
            log.accept(String.format(
                    Locale.ROOT,
                    "evaluation: passkey %d/%d correct at %d (%.1f s)",
                    r.correct(),
                    r.trials(),
                    targetLength,
                    (System.nanoTime() - started) / 1e9));
        }
        return new Outcome(perplexity, passkey);
    }
}
