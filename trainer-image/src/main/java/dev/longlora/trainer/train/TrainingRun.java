package dev.longlora.trainer.train;

import dev.longlora.contract.CheckpointLayout;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.ProgressPhase;
import dev.longlora.contract.RankEnv;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.checkpoint.CheckpointManager;
import dev.longlora.trainer.checkpoint.CheckpointState;
import dev.longlora.trainer.checkpoint.OptimizerManifest;
import dev.longlora.trainer.data.HeldOutSplit;
import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.data.TokenSources;
import dev.longlora.trainer.data.TrainingWindows;
import dev.longlora.trainer.data.VocabularyCheck;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.SingleRank;
import dev.longlora.trainer.io.AtomicDirectory;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.io.TensorData;
import dev.longlora.trainer.io.TrainingRecord;
import dev.longlora.trainer.load.ModelLoader;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import dev.longlora.trainer.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One training job from its resolved config to the final adapter: resume per RESUME_FROM, optimizer steps with
 * gradient accumulation over LongLoRA-packed windows, checkpoints every {@code checkpoint.everySteps} and at the
 * end, progress to a {@link ProgressSink}, and the PEFT adapter under {@code $CHECKPOINT_DIR/output/adapter}.
 *
 * <p>As one rank of a data-parallel gang ({@link Collectives}), it takes its share of each global step's windows:
 * every rank reads the same window sequence and keeps windows [rank x L, (rank + 1) x L) of the step's world x L
 * (L = microBatchSize x gradientAccumulationSteps), so the windows of step s do not depend on the world size. Dropout
 * masks are keyed by the window's global index, data position and dropout counter in checkpoints are global, and
 * rank 0 alone reports progress and writes checkpoints (then all ranks pass a barrier) and the adapter. Ranks agree on
 * stopping at each step boundary, so all save the same step.
 */
public final class TrainingRun {

    /** What the run did; {@code losses} holds the loss of every step this process ran. */
    public record Result(long firstStep, long lastStep, List<Double> losses, Path adapterDir) {}

    static final String OPTIMIZER_M = OptimizerManifest.M_SUFFIX;
    static final String OPTIMIZER_V = OptimizerManifest.V_SUFFIX;
    static final String OPTIMIZER_STEP = OptimizerManifest.STEP_SUFFIX;

    private final JobConfig job;
    private final RankEnv env;
    private final Backend backend;
    private final ProgressSink progress;
    private final Consumer<String> log;
    private final Collectives comm;
    private long stopAfter = Long.MAX_VALUE;
    private final java.util.concurrent.atomic.AtomicBoolean stopRequested =
            new java.util.concurrent.atomic.AtomicBoolean();

    public TrainingRun(JobConfig job, RankEnv env, Backend backend, ProgressSink progress, Consumer<String> log) {
        this(job, env, backend, progress, log, new SingleRank());
    }

    /** One rank of a gang: {@code comm} spans all {@code env.worldSize()} ranks. */
    public TrainingRun(
            JobConfig job,
            RankEnv env,
            Backend backend,
            ProgressSink progress,
            Consumer<String> log,
            Collectives comm) {
        this.job = job;
        this.env = env;
        this.backend = backend;
        this.progress = comm.rank() == 0 ? progress : ProgressSink.none();
        this.log = comm.rank() == 0 ? log : msg -> {};
        this.comm = comm;
    }

    /**
     * Ends the run after this step (with a checkpoint there, no adapter), as an interrupted job would: the seam
     * for checkpoint-before-preemption and for resume tests.
     */
    public TrainingRun stopAfter(long step) {
        this.stopAfter = step;
        return this;
    }

    /**
     * Asks the run to stop after the step in progress, saving a checkpoint first (SIGTERM on preemption or
     * suspension): the restarted pod then resumes from exactly there. Safe to call from any thread.
     */
    public void requestStop() {
        stopRequested.set(true);
    }

    public Result run() {
        if (comm.worldSize() != env.worldSize()) {
            throw new IllegalStateException("the collectives span " + comm.worldSize() + " ranks, WORLD_SIZE is "
                    + env.worldSize() + ": form the gang with RankGroup");
        }
        int world = comm.worldSize();
        boolean leader = comm.rank() == 0;
        int seqLen = job.context().targetLength();
        AttentionSpec attention =
                AttentionSpec.parse(job.attention().pattern(), job.attention().groups());
        attention.validate(seqLen);
        var t = job.training();
        LoraConfig lora = new LoraConfig(
                        job.lora().rank(),
                        job.lora().alpha(),
                        job.lora().dropout(),
                        job.lora().targetModules(),
                        job.lora().trainEmbeddings(),
                        job.lora().trainNorms(),
                        false)
                .validate();
        try (LlamaModel model = ModelLoader.load(job.model().path(), null, lora, backend, t.seed());
                TokenSource source = TokenSources.open(
                        job.data().path(),
                        job.data().format(),
                        TokenDtype.parse(job.data().tokenDtype()),
                        t.seed(),
                        () -> Tokenizers.forModel(job.model().path()))) {
            model.setRopeScalingFactor(job.context().ropeFactor());
            model.setGradientCheckpointing(t.gradientCheckpointing());
            HeldOutSplit split = HeldOutSplit.forJob(job, source.length());
            if (split.heldOutTokens() > 0) {
                log.accept("evaluation holds out tokens [" + split.boundary() + ", " + split.length() + ") of "
                        + source.description() + "; training reads the " + split.boundary() + " before them");
            }
            TrainingWindows windows = new TrainingWindows(split.training(source), seqLen, t.seed());
            AdamWConfig adamw = new AdamWConfig(t.adamBeta1(), t.adamBeta2(), t.adamEpsilon(), t.weightDecay());
            LrSchedule schedule = LrSchedule.of(t.schedule(), t.learningRate(), t.warmupSteps(), t.maxSteps());
            CheckpointManager checkpoints =
                    new CheckpointManager(env.checkpointDir(), job.checkpoint().keep(), log);
            try (Trainer trainer = new Trainer(
                    model,
                    adamw,
                    schedule,
                    t.maxGradNorm(),
                    comm,
                    job.distributed().zeroStage())) {
                Optional<CheckpointState> resumed = checkpoints.resolve(env.resumeFrom());
                resumed.ifPresent(s -> restore(s, model, trainer, windows));
                long first = trainer.step();
                List<Double> losses = new ArrayList<>();
                int perRank = t.gradientAccumulationSteps() * t.microBatchSize();
                int globalBatch = world * perRank;
                progress.phase(ProgressPhase.TRAINING);
                progress.start(first, t.maxSteps());
                long started = System.nanoTime();
                long tokensDone = 0;
                while (trainer.step() < t.maxSteps()) {
                    List<Trainer.Sample> batch = new ArrayList<>(perRank);
                    for (int i = 0; i < globalBatch; i++) {
                        TrainingWindows.Window w = windows.next();
                        if (i / perRank != comm.rank()) continue;
                        VocabularyCheck.require(
                                w.inputs(), w.start(), model.config().vocabSize(), source);
                        batch.add(new Trainer.Sample(w.inputs(), w.labels()));
                    }
                    long dropoutBase = model.dropoutCounter();
                    model.setDropoutCounter(dropoutBase + (long) comm.rank() * perRank);
                    Trainer.StepResult r = trainer.step(batch, attention, globalBatch);
                    model.setDropoutCounter(dropoutBase + globalBatch);
                    losses.add(r.loss());
                    tokensDone += r.tokens();
                    double seconds = (System.nanoTime() - started) / 1e9;
                    double tps = tokensDone / Math.max(seconds, 1e-9);
                    long stepsDone = r.step() - first;
                    long eta = (long) Math.ceil(seconds / stepsDone * (t.maxSteps() - r.step()));
                    progress.step(new ProgressSink.StepProgress(
                            r.step(), t.maxSteps(), r.loss(), r.learningRate(), tps, eta, r.gradNorm()));
                    // SIGTERM reaches the ranks at different moments: any rank's request stops them all here
                    boolean stopping =
                            trainer.anyRank(r.step() >= stopAfter || stopRequested.get()) && r.step() < t.maxSteps();
                    if (r.step() % job.checkpoint().everySteps() == 0 || r.step() == t.maxSteps() || stopping) {
                        progress.phase(ProgressPhase.CHECKPOINTING);
                        if (trainer.partitionsOptimizer()) {
                            // each rank saves its optimizer part; rank 0 marks the directory COMPLETE after a barrier
                            CheckpointState state = capture(r.step(), model, trainer, windows, r.loss(), false);
                            Path dir = checkpoints.saveSharded(
                                    state,
                                    trainer.optimizerManifest(),
                                    trainer.optimizerShard(),
                                    leader,
                                    comm::barrier);
                            if (leader) progress.checkpoint(r.step(), dir);
                        } else {
                            CheckpointState state = capture(r.step(), model, trainer, windows, r.loss(), true);
                            if (leader) {
                                Path dir = checkpoints.save(state);
                                progress.checkpoint(r.step(), dir);
                            }
                            comm.barrier();
                        }
                        progress.phase(ProgressPhase.TRAINING);
                    }
                    if (stopping) {
                        progress.finish();
                        return new Result(first, trainer.step(), losses, null);
                    }
                }
                progress.finish();
                Path adapter = leader
                        ? writeAdapter(model, lora, trainer.step(), losses.isEmpty() ? null : losses.getLast())
                        : adapterDir();
                comm.barrier();
                return new Result(first, trainer.step(), losses, adapter);
            }
        }
    }

    /** The state to save; {@code withOptimizer} false leaves the optimizer out (each rank saves its own part). */
    private CheckpointState capture(
            long step, LlamaModel model, Trainer trainer, TrainingWindows windows, double loss, boolean withOptimizer) {
        Map<String, TensorData> weights = new LinkedHashMap<>();
        for (Parameter p : model.parameters().trainable()) {
            weights.put(p.name(), new TensorData(p.shape(), model.parameters().values(p.name())));
        }
        Map<String, TensorData> optimizer = new LinkedHashMap<>();
        long optimizerStep = withOptimizer ? 0 : trainer.optimizerShard().step();
        Map<String, AdamW.ParamState> exported = withOptimizer ? trainer.exportOptimizerState() : Map.of();
        for (Map.Entry<String, AdamW.ParamState> e : exported.entrySet()) {
            int[] shape = model.parameters().get(e.getKey()).shape();
            optimizer.put(
                    e.getKey() + OPTIMIZER_M, new TensorData(shape, e.getValue().m()));
            optimizer.put(
                    e.getKey() + OPTIMIZER_V, new TensorData(shape, e.getValue().v()));
            optimizer.put(
                    e.getKey() + OPTIMIZER_STEP,
                    TensorData.of(new float[] {e.getValue().step()}, 1));
            optimizerStep = Math.max(optimizerStep, e.getValue().step());
        }
        return new CheckpointState(
                step,
                windows.position(),
                job.training().seed(),
                model.dropoutCounter(),
                weights,
                optimizer,
                optimizerStep,
                Map.of("loss", Double.toString(loss)));
    }

    private void restore(CheckpointState s, LlamaModel model, Trainer trainer, TrainingWindows windows) {
        Path dir = env.checkpointDir().resolve(CheckpointLayout.stepDirectory(s.step()));
        List<String> expected = model.parameters().trainable().stream()
                .map(Parameter::name)
                .sorted()
                .toList();
        List<String> found = s.trainable().keySet().stream().sorted().toList();
        if (!expected.equals(found)) {
            throw new FormatException(
                    dir,
                    "holds trainable weights for another setup (" + found.size() + " tensors, the job has "
                            + expected.size()
                            + "); the LoRA or model settings changed since it was written: resume with RESUME_FROM=none "
                            + "or restore the old settings");
        }
        if (s.seed() != job.training().seed()) {
            log.accept("note: checkpoint " + dir + " was written with seed " + s.seed() + ", the job now says "
                    + job.training().seed() + "; the data order follows the job's seed");
        }
        for (Map.Entry<String, TensorData> e : s.trainable().entrySet()) {
            Parameter p = model.parameters().get(e.getKey());
            if (!java.util.Arrays.equals(p.shape(), e.getValue().shape())) {
                throw new FormatException(
                        dir,
                        "tensor '" + e.getKey() + "' has shape "
                                + java.util.Arrays.toString(e.getValue().shape()) + " but the model needs "
                                + java.util.Arrays.toString(p.shape()));
            }
            model.parameters().setValues(e.getKey(), e.getValue().values());
        }
        Map<String, AdamW.ParamState> state = new LinkedHashMap<>();
        for (String name : expected) {
            TensorData m = s.optimizer().get(name + OPTIMIZER_M);
            TensorData v = s.optimizer().get(name + OPTIMIZER_V);
            TensorData st = s.optimizer().get(name + OPTIMIZER_STEP);
            if (m == null || v == null || st == null) {
                throw new FormatException(dir, "optimizer state for '" + name + "' is missing");
            }
            state.put(name, new AdamW.ParamState(m.values(), v.values(), (long) st.values()[0]));
        }
        try {
            trainer.importOptimizerState(state);
        } catch (IllegalArgumentException e) {
            throw new FormatException(dir, e.getMessage());
        }
        trainer.setStep(s.step());
        windows.seek(s.dataPosition());
        model.setDropoutCounter(s.dropoutCounter());
        log.accept("resumed from " + dir + " (step " + s.step() + ")");
    }

    /** What the adapter's {@code longlora-training.json} says about this run. */
    private TrainingRecord record(long steps, Double finalLoss) {
        return new TrainingRecord(
                job.context().originalLength(),
                job.context().targetLength(),
                job.context().ropeFactor(),
                job.attention().pattern(),
                job.attention().groups(),
                steps,
                finalLoss,
                job.model().name());
    }

    /** Writes the final adapter next to the checkpoints, replacing an older one only once the new one is complete. */
    private Path adapterDir() {
        return env.checkpointDir().resolve(CheckpointLayout.OUTPUT_DIR).resolve(CheckpointLayout.ADAPTER_DIR);
    }

    private Path writeAdapter(LlamaModel model, LoraConfig lora, long steps, Double lastLoss) {
        Path dest = adapterDir();
        // A restart after the last step (e.g. stopped during the merge or evaluation) trains nothing: keep the loss
        // the finished run recorded rather than erasing it.
        Double finalLoss = lastLoss != null
                ? lastLoss
                : dev.longlora.trainer.io.TrainingRecord.read(dest)
                        .filter(r -> r.steps() == steps)
                        .map(dev.longlora.trainer.io.TrainingRecord::finalLoss)
                        .orElse(null);
        try {
            AtomicDirectory.publish(dest, tmp -> {
                PeftAdapter.write(tmp, model.parameters(), lora, job.model().name());
                record(steps, finalLoss).writeInto(tmp);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the adapter to " + dest + ": " + e.getMessage(), e);
        }
        log.accept("adapter written to " + dest);
        return dest;
    }
}
