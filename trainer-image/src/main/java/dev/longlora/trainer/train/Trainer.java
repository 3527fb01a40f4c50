package dev.longlora.trainer.train;

import dev.longlora.trainer.checkpoint.OptimizerManifest;
import dev.longlora.trainer.checkpoint.OptimizerShard;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.parameter.Parameter;
import java.util.List;
import java.util.Map;

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
    /** Null when ZeRO stage 1+ partitions the optimizer state (then {@link #parallel} owns it). */
    private final AdamW optimizer;
    /** Null for a single rank. */
    private final DataParallel parallel;
    /** ZeRO-3's partitioned frozen weights; null below stage 3. */
    private final PartitionedWeights partitioned;

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
        this(model, adamw, schedule, maxGradNorm, null, 0);
    }

    /**
     * A trainer that is one rank of a data-parallel gang ({@code comm}; null or a world of one: a single rank) with
     * ZeRO stage {@code zeroStage} (0..3; stage 3 partitions the model's frozen weights across the ranks now, and
     * the model gathers them layer by layer from then on).
     */
    public Trainer(
            LlamaModel model,
            AdamWConfig adamw,
            LrSchedule schedule,
            double maxGradNorm,
            Collectives comm,
            int zeroStage) {
        this.model = model;
        this.trainable = model.parameters().trainable();
        if (trainable.isEmpty()) {
            throw new IllegalArgumentException(
                    "nothing is trainable: enable LoRA (rank > 0), trainEmbeddings, trainNorms "
                            + "or full fine-tuning");
        }
        this.parallel = comm == null || comm.worldSize() == 1
                ? null
                : new DataParallel(comm, zeroStage, model, new FlatLayout(trainable), adamw);
        this.optimizer =
                parallel != null && parallel.shardsOptimizer() ? null : new AdamW(model.backend(), trainable, adamw);
        this.partitioned = zeroStage == 3 && comm != null ? new PartitionedWeights(model, comm) : null;
        this.schedule = schedule;
        this.maxGradNorm = maxGradNorm;
    }

    /** The optimizer (its state is exported and imported by name for checkpoints). */
    public AdamW optimizer() {
        if (optimizer == null) {
            throw new IllegalStateException("ZeRO partitions the optimizer state: use exportOptimizerState");
        }
        return optimizer;
    }

    /** The whole optimizer state by parameter name; with ZeRO 1+ a collective (every rank calls it). */
    public Map<String, AdamW.ParamState> exportOptimizerState() {
        return optimizer != null ? optimizer.exportState() : parallel.exportOptimizerState();
    }

    /** True when ZeRO 1+ partitions the optimizer state over several ranks: checkpoints then save per-rank parts. */
    public boolean partitionsOptimizer() {
        return optimizer == null;
    }

    /** This rank's part of a partitioned optimizer state (see {@link #partitionsOptimizer()}). */
    public OptimizerShard optimizerShard() {
        return parallel.sharded().ownPart();
    }

    /** Where each rank's part of a partitioned optimizer state lies. */
    public OptimizerManifest optimizerManifest() {
        return parallel.manifest();
    }

    /** Restores a whole optimizer state (with ZeRO 1+ this rank keeps its shard of it). */
    public void importOptimizerState(Map<String, AdamW.ParamState> state) {
        if (optimizer != null) {
            optimizer.importState(state);
        } else {
            parallel.importOptimizerState(state);
        }
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
        return step(microBatches, attention, microBatches.size());
    }

    /**
     * One step of a data-parallel gang: this rank's {@code localSamples}, out of {@code globalSamples} over all
     * ranks. Gradients and the loss are means over the global batch, so N ranks with 1/N of the windows each make the
     * step one rank would make with all of them (up to the order of float additions).
     */
    public StepResult step(List<Sample> localSamples, AttentionSpec attention, int globalSamples) {
        if (localSamples.isEmpty()) {
            throw new IllegalArgumentException("a step needs at least one micro-batch");
        }
        if (parallel == null && globalSamples != localSamples.size()) {
            throw new IllegalArgumentException("a single rank's step takes the whole batch of " + globalSamples
                    + " samples, got " + localSamples.size());
        }
        model.zeroGrads();
        if (parallel != null) parallel.beginStep();
        double lossSum = 0;
        long tokens = 0;
        float scale = 1f / globalSamples;
        for (Sample s : localSamples) {
            lossSum += model.forwardBackward(s.tokens(), s.labels(), attention, scale);
            tokens += s.tokens().length;
        }
        if (parallel != null) {
            double[] totals = parallel.sum(lossSum, tokens);
            lossSum = totals[0];
            tokens = Math.round(totals[1]);
        }
        double loss = lossSum / globalSamples;
        double lr = schedule.at(step);
        if (!Double.isFinite(loss)) {
            throw new LossDivergedException("loss is " + loss + " at step " + (step + 1) + " (learning rate " + lr
                    + "): lower training.learningRate or raise training.warmupSteps, or check the data");
        }
        double norm;
        if (parallel == null) {
            norm = GradientClipping.clip(model.backend(), trainable, maxGradNorm);
            optimizer.step(lr);
        } else {
            norm = parallel.step(lr, maxGradNorm, optimizer);
        }
        step++;
        return new StepResult(step, loss, norm, lr, tokens);
    }

    /** Any rank's {@code flag} set makes it set for all (a collective for a gang; a single rank answers at once). */
    public boolean anyRank(boolean flag) {
        return parallel == null ? flag : parallel.sum(flag ? 1 : 0)[0] > 0;
    }

    @Override
    public void close() {
        if (optimizer != null) optimizer.close();
        if (parallel != null) parallel.close();
        if (partitioned != null) partitioned.close();
    }
}
