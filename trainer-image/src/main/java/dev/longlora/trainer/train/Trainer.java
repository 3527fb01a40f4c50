package dev.longlora.trainer.train;

import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.parameter.Parameter;
import java.util.List;

/**
 * One optimizer step = gradient accumulation over micro-batches, global-norm clipping, AdamW with the scheduled
 * learning rate. Deterministic: the same model seed, data and settings give the same parameters bit for bit (on the
 * same backend and thread count).
 */
public final class Trainer implements AutoCloseable {

    /** One training sequence: tokens and HF-style labels (same length; -100 = ignored). */
    public record Sample(int[] tokens, int[] labels) {
        /** A plain language-modelling sample: labels are the tokens. */
        public static Sample of(int[] tokens) {
            return new Sample(tokens, tokens);
        }
    }

    /** What one step did. */
    public record StepResult(long step, double loss, double gradNorm, double learningRate, long tokens) {}

    private final LlamaModel model;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final double maxGradNorm;
    private final List<Parameter> trainable;
    private long step;

    /**
     * A trainer over the model's trainable parameters.
     *
     * @param maxGradNorm clip threshold for the global gradient norm (<= 0: no clipping)
     */
    public Trainer(LlamaModel model, AdamWConfig adamw, LrSchedule schedule, double maxGradNorm) {
        this.model = model;
        this.trainable = model.parameters().trainable();
        if (trainable.isEmpty()) {
            throw new IllegalArgumentException(
                    "nothing is trainable: enable LoRA (rank > 0), trainEmbeddings, trainNorms "
                            + "or full fine-tuning");
        }
        this.optimizer = new AdamW(model.backend(), trainable, adamw);
        this.schedule = schedule;
        this.maxGradNorm = maxGradNorm;
    }

    /** The optimizer (its state is exported and imported by name for checkpoints). */
    public AdamW optimizer() {
        return optimizer;
    }

    /** Optimizer steps done so far. */
    public long step() {
        return step;
    }

    /** Sets the number of steps done (resume); the schedule continues from there. */
    public void setStep(long done) {
        if (done < 0) {
            throw new IllegalArgumentException("step " + done + " must be >= 0");
        }
        this.step = done;
    }

    /**
     * Runs forward/backward on each micro-batch (gradients averaged over them), clips, and applies one AdamW update.
     * Throws {@link LossDivergedException} when the loss is not finite, naming the step and learning rate.
     */
    public StepResult step(List<Sample> microBatches, AttentionSpec attention) {
        if (microBatches.isEmpty()) {
            throw new IllegalArgumentException("a step needs at least one micro-batch");
        }
        model.zeroGrads();
        double lossSum = 0;
        long tokens = 0;
        float scale = 1f / microBatches.size();
        for (Sample s : microBatches) {
            lossSum += model.forwardBackward(s.tokens(), s.labels(), attention, scale);
            tokens += s.tokens().length;
        }
        double loss = lossSum / microBatches.size();
        double lr = schedule.at(step);
        if (!Double.isFinite(loss)) {
            throw new LossDivergedException("loss is " + loss + " at step " + (step + 1) + " (learning rate " + lr
                    + "): lower training.learningRate or raise training.warmupSteps, or check the data");
        }
        double norm = GradientClipping.clip(model.backend(), trainable, maxGradNorm);
        optimizer.step(lr);
        step++;
        return new StepResult(step, loss, norm, lr, tokens);
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
