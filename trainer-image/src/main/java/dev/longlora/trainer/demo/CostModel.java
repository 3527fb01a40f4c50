package dev.longlora.trainer.demo;

/**
 * FLOP counts of the demo's phases, used to size the plan and to estimate the remaining time from the speed
 * measured so far. Conventions of longlora-method.md: a matmul of m x k by k x n is 2mkn FLOPs, backward is about
 * twice forward, causal attention does half of the L x L work.
 */
public record CostModel(int hidden, int layers, int intermediate, int vocab) {

    public static CostModel of(DemoPlan plan) {
        return new CostModel(
                plan.hidden(),
                plan.layers(),
                plan.intermediate(),
                DemoVocabulary.get().size());
    }

    /** Forward FLOPs per token with each query seeing on average {@code span / 2} keys (causal over a span). */
    public double forwardFlopsPerToken(int span) {
        double projections = 4.0 * hidden * hidden + 3.0 * hidden * intermediate;
        double attention = 2.0 * 2.0 * hidden * (span / 2.0);
        return 2.0 * layers * projections + layers * attention + 2.0 * hidden * vocab;
    }

    /** Forward + backward FLOPs per token. */
    public double trainFlopsPerToken(int span) {
        return 3.0 * forwardFlopsPerToken(span);
    }

    /** FLOPs of one training step of {@code batch} sequences of {@code length} with attention spans of {@code span}. */
    public double trainStepFlops(int batch, int length, int span) {
        return (double) batch * length * trainFlopsPerToken(span);
    }

    /** FLOPs of evaluating {@code tokens} tokens in sequences of {@code length} (full attention). */
    public double evalFlops(long tokens, int length) {
        return tokens * forwardFlopsPerToken(length);
    }
}
