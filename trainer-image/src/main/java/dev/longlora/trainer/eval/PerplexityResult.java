package dev.longlora.trainer.eval;

/** Mean window loss, its perplexity exp(loss), and how it was measured. */
public record PerplexityResult(
        double loss,
        double ppl,
        long windows,
        int seqLen,
        int stride,
        String attention,
        double ropeFactor,
        long tokens) {}
