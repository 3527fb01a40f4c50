package dev.longlora.trainer.demo;

import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the demo measured for one model.
 *
 * @param label           what the row is
 * @param contextLength   the length perplexity was measured at
 * @param perplexity      LongLoRA's protocol at {@code contextLength}, full attention
 * @param passkeyAccuracy fraction of exact retrievals per prompt length
 * @param farRecall       fraction of recalled code digits predicted right whose binding lies more than the original
 *                        context back (NaN where the context is too short to hold any)
 * @param trainableParams parameters that were trained in this phase (0 for no training)
 * @param trainSeconds    wall time of this phase's training (0 for no training)
 */
public record VariantResult(
        String label,
        int contextLength,
        double perplexity,
        SortedMap<Integer, Double> passkeyAccuracy,
        double farRecall,
        long trainableParams,
        double trainSeconds) {
    public VariantResult {
        passkeyAccuracy = new TreeMap<>(passkeyAccuracy);
    }
}
