package dev.longlora.trainer.demo;

import dev.longlora.contract.ConfigException;
import java.util.List;

/**
 * Sizes of one demo run. {@link #full()} is chosen so the effect is visible within the time budget on 2 cores (see
 * docs/demo.md for the cost model and the measurements behind it); {@link #quick()} only exercises the pipeline.
 *
 * @param hidden          model width
 * @param layers          decoder layers
 * @param heads           attention heads (no GQA: the model is tiny)
 * @param intermediate    SwiGLU width
 * @param shortContext    pretraining context
 * @param longContext     target context after extension (ropeFactor = long / short)
 * @param groups          S2-Attn groups per sequence while fine-tuning
 * @param copySteps       first pretraining steps on repeated random runs only, so that copying forms early
 * @param pretrainSteps   all optimizer steps of pretraining (all weights trainable), copySteps included
 * @param pretrainBatch   sequences per pretraining step
 * @param pretrainLr      peak learning rate of pretraining (cosine decay after warmup)
 * @param finetuneSteps   optimizer steps of each fine-tuned variant
 * @param finetuneBatch   sequences per fine-tuning step
 * @param finetuneLr      learning rate of fine-tuning (constant after warmup, as LongLoRA)
 * @param loraRank        LoRA rank (alpha = 2 * rank, as LongLoRA's 8/16)
 * @param passkeyFraction share of passkey prompts among generated documents
 * @param repeatFraction  share of repeated random runs among generated documents
 * @param evalDocuments   long documents in the perplexity token stream
 * @param passkeyLengths  prompt lengths of the passkey test
 * @param passkeyTrials   prompts per length, with depths spread evenly over [0, 1]
 */
public record DemoPlan(
        int hidden,
        int layers,
        int heads,
        int intermediate,
        int shortContext,
        int longContext,
        int groups,
        int copySteps,
        int pretrainSteps,
        int pretrainBatch,
        double pretrainLr,
        int finetuneSteps,
        int finetuneBatch,
        double finetuneLr,
        int loraRank,
        double passkeyFraction,
        double repeatFraction,
        int evalDocuments,
        List<Integer> passkeyLengths,
        int passkeyTrials) {

    public DemoPlan {
        passkeyLengths = List.copyOf(passkeyLengths);
        if (longContext % shortContext != 0) {
            throw new ConfigException(
                    "longContext " + longContext + " must be a multiple of shortContext " + shortContext);
        }
        if (copySteps > pretrainSteps) {
            throw new ConfigException("copySteps " + copySteps + " must not exceed pretrainSteps " + pretrainSteps);
        }
    }

    /** The README's run. */
    public static DemoPlan full() {
        return new DemoPlan(
                64,
                2,
                2,
                172,
                128,
                512,
                4,
                700,
                1500,
                16,
                1e-2,
                200,
                8,
                1e-3,
                8,
                0.3,
                0.3,
                64,
                List.of(128, 256, 512),
                40);
    }

    /** A pipeline check in tens of seconds: the same phases, far smaller. */
    public static DemoPlan quick() {
        return new DemoPlan(32, 2, 2, 64, 64, 256, 4, 20, 60, 8, 1e-2, 4, 2, 2e-3, 4, 0.3, 0.3, 4, List.of(64, 256), 4);
    }

    public double ropeFactor() {
        return (double) longContext / shortContext;
    }

    public double loraAlpha() {
        return 2.0 * loraRank;
    }
}
