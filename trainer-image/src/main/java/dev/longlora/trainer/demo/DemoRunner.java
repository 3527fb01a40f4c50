package dev.longlora.trainer.demo;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.data.EvalWindows;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.eval.PerplexityEvaluator;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import dev.longlora.trainer.train.AdamWConfig;
import dev.longlora.trainer.train.LrSchedule;
import dev.longlora.trainer.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Runs the demo: pretrain at the short context, extend with PI, fine-tune each {@link Variant} on the same data,
 * evaluate perplexity (full attention) and passkey retrieval, print and write the table.
 */
public final class DemoRunner {
    private final DemoPlan plan;
    private final long seed;
    private final int threads;
    private final Path out;
    private final PrintStream console;
    private final CostModel cost;
    private final ResultsTable table;
    private DemoProgress progress;
    /** Loss of every pretraining step, for tests and the doc. */
    private final List<Double> pretrainLosses = new ArrayList<>();

    public DemoRunner(DemoPlan plan, long seed, int threads, Path out, PrintStream console) {
        this.plan = plan;
        this.seed = seed;
        this.threads = threads;
        this.out = out;
        this.console = console;
        this.cost = CostModel.of(plan);
        this.table = new ResultsTable(plan.shortContext());
    }

    public int run() throws IOException {
        long started = System.nanoTime();
        startProgress();
        try (Backend backend = new CpuBackend(threads)) {
            console.printf(
                    Locale.ROOT,
                    "LongLoRA demo on %s: a %d-layer LLaMA (hidden %d, %d heads, vocabulary %d words), "
                            + "pretrained at %d tokens, extended %.0fx to %d with position interpolation.%n",
                    backend.name(),
                    plan.layers(),
                    plan.hidden(),
                    plan.heads(),
                    DemoVocabulary.get().size(),
                    plan.shortContext(),
                    plan.ropeFactor(),
                    plan.longContext());
            EvalSet eval = evalSet();
            Map<String, float[]> base = pretrain(backend, eval);
            for (Variant variant : Variant.values()) {
                table.add(extend(backend, base, variant, eval));
            }
        }
        double minutes = (System.nanoTime() - started) / 60e9;
        String markdown = report(minutes);
        console.println();
        console.print(markdown);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(out, markdown);
        console.println("Wrote " + out);
        return 0;
    }

    void startProgress() {
        progress = new DemoProgress(console, plannedFlops());
    }

    public ResultsTable table() {
        return table;
    }

    public List<Double> pretrainLosses() {
        return List.copyOf(pretrainLosses);
    }

    // ---- phases ------------------------------------------------------------------------------------------

    Map<String, float[]> pretrain(Backend backend, EvalSet eval) {
        progress.phase("1/" + (Variant.values().length + 1) + " pretraining at " + plan.shortContext()
                + " tokens, all weights trainable: " + plan.copySteps() + " steps on repeated runs (copying), then "
                + (plan.pretrainSteps() - plan.copySteps()) + " on the mix; " + plan.pretrainBatch()
                + " sequences a step");
        LlamaConfig config = shortConfig();
        try (LlamaModel model = new LlamaModel(config, LoraConfig.fullFineTuning(), backend, seed)) {
            model.setGradientCheckpointing(false);
            SmallModelInit.apply(model, seed);
            LrSchedule schedule =
                    LrSchedule.cosine(plan.pretrainLr(), warmup(plan.pretrainSteps()), plan.pretrainSteps());
            var copying = new LongRangeCorpus(seed * 31 + 5, 0.0, 1.0, plan.shortContext());
            var mix = new LongRangeCorpus(
                    seed * 31 + 1, plan.passkeyFraction(), plan.repeatFraction(), plan.shortContext());
            double seconds = train(
                    model,
                    schedule,
                    step -> step <= plan.copySteps() ? copying : mix,
                    plan.shortContext(),
                    plan.pretrainSteps(),
                    plan.pretrainBatch(),
                    AttentionSpec.full(),
                    pretrainLosses);
            Map<String, float[]> weights = new LinkedHashMap<>();
            for (Parameter p : model.parameters().all()) {
                weights.put(p.name(), model.parameters().values(p.name()));
            }
            table.add(evaluate(
                    model,
                    "base at its own context (no PI)",
                    plan.shortContext(),
                    eval,
                    model.parameters().numel(),
                    seconds));
            return weights;
        }
    }

    VariantResult extend(Backend backend, Map<String, float[]> base, Variant variant, EvalSet eval) {
        int index = variant.ordinal() + 1;
        LoraConfig lora = loraFor(variant);
        LlamaConfig config =
                shortConfig().withRopeScalingFactor(plan.ropeFactor()).withMaxPositionEmbeddings(plan.longContext());
        try (LlamaModel model = new LlamaModel(config, lora, backend, seed + index)) {
            model.setGradientCheckpointing(false);
            base.forEach((name, values) -> model.parameters().setValues(name, values));
            double seconds = 0;
            if (variant.fineTuned()) {
                progress.phase((index + 1) + "/" + (Variant.values().length + 1) + " " + variant.label() + ": "
                        + plan.finetuneSteps() + " steps x " + plan.finetuneBatch() + " sequences of "
                        + plan.longContext()
                        + " tokens, attention " + attention(variant.trainingAttention()));
                LrSchedule schedule = LrSchedule.constantWithWarmup(plan.finetuneLr(), warmup(plan.finetuneSteps()));
                // Every variant sees the same documents in the same order.
                var corpus = new LongRangeCorpus(
                        seed * 31 + 2, plan.passkeyFraction(), plan.repeatFraction(), plan.longContext());
                seconds = train(
                        model,
                        schedule,
                        step -> corpus,
                        plan.longContext(),
                        plan.finetuneSteps(),
                        plan.finetuneBatch(),
                        attention(variant.trainingAttention()),
                        null);
            } else {
                progress.phase((index + 1) + "/" + (Variant.values().length + 1) + " " + variant.label());
            }
            return evaluate(
                    model,
                    variant.label(),
                    plan.longContext(),
                    eval,
                    variant.fineTuned() ? model.parameters().trainableNumel() : 0,
                    seconds);
        }
    }

    private double train(
            LlamaModel model,
            LrSchedule schedule,
            IntFunction<LongRangeCorpus> corpusAtStep,
            int length,
            int steps,
            int batch,
            AttentionSpec attention,
            List<Double> losses) {
        long start = System.nanoTime();
        double stepFlops = cost.trainStepFlops(batch, length, attention.groupSize(length));
        try (Trainer trainer = new Trainer(model, AdamWConfig.longLora(), schedule, 1.0)) {
            for (int s = 1; s <= steps; s++) {
                List<Trainer.Sample> samples = new ArrayList<>(batch);
                for (int[] row : corpusAtStep.apply(s).batch(batch, length)) {
                    samples.add(Trainer.Sample.of(row));
                }
                Trainer.StepResult r = trainer.step(samples, attention);
                if (losses != null) {
                    losses.add(r.loss());
                }
                progress.step(s, steps, r.loss(), r.tokens(), stepFlops);
            }
        }
        model.releaseWorkspace();
        return (System.nanoTime() - start) / 1e9;
    }

    private VariantResult evaluate(
            LlamaModel model, String label, int length, EvalSet eval, long trainable, double seconds) {
        var ppl = PerplexityEvaluator.evaluate(
                model, eval.stream(), length, AttentionSpec.full(), EvalWindows.DEFAULT_STRIDE, null);
        progress.work(cost.evalFlops(ppl.windows() * length, length));
        var accuracy = new TreeMap<Integer, Double>();
        for (var entry : eval.passkeys().entrySet()) {
            if (entry.getKey() > length) {
                continue;
            }
            int found = 0;
            for (PasskeyPrompt prompt : entry.getValue()) {
                if (retrieves(model, prompt)) {
                    found++;
                }
                progress.work(cost.evalFlops(prompt.tokens().length, prompt.tokens().length));
            }
            accuracy.put(entry.getKey(), (double) found / entry.getValue().size());
        }
        double farRecall = farRecall(model, eval, length);
        model.releaseWorkspace();
        var result = new VariantResult(label, length, ppl.ppl(), accuracy, farRecall, trainable, seconds);
        progress.info(String.format(
                Locale.ROOT,
                "ppl@%d %.3f, passkey %s, recall of codes bound >%d tokens back %s",
                length,
                ppl.ppl(),
                percentages(accuracy),
                plan.shortContext(),
                Double.isNaN(farRecall) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * farRecall)));
        return result;
    }

    /**
     * Over consecutive windows of the perplexity stream: the share of recalled code digits that are the argmax when
     * their binding lies more than the original context back but inside the window. This is the part of the
     * perplexity that only a longer context can win.
     */
    private double farRecall(LlamaModel model, EvalSet eval, int length) {
        int right = 0;
        int total = 0;
        for (int start = 0; start + length <= eval.stream().length(); start += length) {
            int[] window = eval.stream().slice(start, length);
            int[] next = null;
            for (Dependency d : eval.dependencies()) {
                int answer = d.answerPosition() - start;
                int source = d.sourcePosition() - start;
                if (source < 0 || answer >= length || d.distance() <= plan.shortContext()) {
                    continue;
                }
                if (next == null) {
                    next = model.argmaxNextTokens(window, AttentionSpec.full());
                    progress.work(cost.evalFlops(length, length));
                }
                total++;
                if (next[answer - 1] == window[answer]) {
                    right++;
                }
            }
        }
        return total == 0 ? Double.NaN : (double) right / total;
    }

    /** Greedy retrieval in one teacher-forced pass: every key digit is the argmax given everything before it. */
    static boolean retrieves(LlamaModel model, PasskeyPrompt prompt) {
        int[] next = model.argmaxNextTokens(prompt.tokens(), AttentionSpec.full());
        for (int p : prompt.answerPositions()) {
            if (next[p - 1] != prompt.tokens()[p]) {
                return false;
            }
        }
        return true;
    }

    // ---- data and configuration --------------------------------------------------------------------------

    /** The held-out perplexity stream (long records documents) and the passkey prompts, the same for every model. */
    record EvalSet(TokenSource stream, List<Dependency> dependencies, Map<Integer, List<PasskeyPrompt>> passkeys) {}

    EvalSet evalSet() {
        // One long records document, so every perplexity window looks alike; lags fit inside a long window.
        Document records = new LongRangeCorpus(seed * 31 + 3, 0.0, 0.0, evalMaxLag(plan))
                .recordsDocument(plan.evalDocuments() * plan.longContext());
        var random = new SplittableRandom(seed * 31 + 4);
        Map<Integer, List<PasskeyPrompt>> passkeys = new TreeMap<>();
        for (int length : plan.passkeyLengths()) {
            List<PasskeyPrompt> prompts = new ArrayList<>();
            for (int t = 0; t < plan.passkeyTrials(); t++) {
                double depth = (t + 0.5) / plan.passkeyTrials();
                prompts.add(PasskeyPrompt.build(length, depth, 1 + random.nextInt(PasskeyPrompt.MAX_KEY)));
            }
            passkeys.put(length, prompts);
        }
        return new EvalSet(
                TokenSource.of(records.tokens(), "the demo's held-out records document"),
                records.dependencies(),
                passkeys);
    }

    /** Longest binding-to-recall distance in the perplexity stream: 7/8 of the long context. */
    static int evalMaxLag(DemoPlan plan) {
        return plan.longContext() * 7 / 8;
    }

    private LlamaConfig shortConfig() {
        return new LlamaConfig(
                DemoVocabulary.get().size(),
                plan.hidden(),
                plan.intermediate(),
                plan.layers(),
                plan.heads(),
                plan.heads(),
                1e-5,
                10000.0,
                plan.shortContext(),
                1.0,
                false);
    }

    private LoraConfig loraFor(Variant variant) {
        if (!variant.fineTuned()) {
            return LoraConfig.frozen();
        }
        boolean embedNorm = variant.trainsEmbeddingsAndNorms();
        return new LoraConfig(
                plan.loraRank(), plan.loraAlpha(), 0.0, LoraConfig.ATTENTION_MODULES, embedNorm, embedNorm, false);
    }

    private AttentionSpec attention(Variant.Attention a) {
        return switch (a) {
            case FULL -> AttentionSpec.full();
            case S2 -> AttentionSpec.s2(plan.groups());
            case NO_SHIFT -> AttentionSpec.shortNoShift(plan.groups());
        };
    }

    private static int warmup(int steps) {
        return Math.max(1, steps / 20);
    }

    private double plannedFlops() {
        double total = plan.pretrainSteps()
                * cost.trainStepFlops(plan.pretrainBatch(), plan.shortContext(), plan.shortContext());
        int g = plan.longContext() / plan.groups();
        total += 3 * plan.finetuneSteps() * cost.trainStepFlops(plan.finetuneBatch(), plan.longContext(), g);
        total += plan.finetuneSteps()
                * cost.trainStepFlops(plan.finetuneBatch(), plan.longContext(), plan.longContext());
        long evalTokens = plan.evalDocuments() * (long) plan.longContext();
        total += (Variant.values().length + 1) * cost.evalFlops(evalTokens, plan.longContext());
        for (int length : plan.passkeyLengths()) {
            total += (Variant.values().length + 1) * plan.passkeyTrials() * cost.evalFlops(length, length);
        }
        return total;
    }

    private String report(double minutes) {
        var sb = new StringBuilder();
        sb.append("# LongLoRA demo results\n\n");
        sb.append(String.format(
                Locale.ROOT,
                "Tiny LLaMA (%d layers, hidden %d, %d heads, SwiGLU %d, %d-word vocabulary) pretrained at %d tokens for %d steps x %d "
                        + "sequences, then extended to %d tokens with position interpolation (factor %.0f) and fine-tuned %d steps x %d "
                        + "sequences per variant (LoRA rank %d, alpha %.0f, S2-Attn with %d groups). Perplexity: LongLoRA's "
                        + "protocol on held-out long documents, full attention. Passkey: %d prompts per length, key depths "
                        + "spread evenly, exact match of every key digit. Seed %d, %d threads, %.1f minutes in total.%n%n",
                plan.layers(),
                plan.hidden(),
                plan.heads(),
                plan.intermediate(),
                DemoVocabulary.get().size(),
                plan.shortContext(),
                plan.pretrainSteps(),
                plan.pretrainBatch(),
                plan.longContext(),
                plan.ropeFactor(),
                plan.finetuneSteps(),
                plan.finetuneBatch(),
                plan.loraRank(),
                plan.loraAlpha(),
                plan.groups(),
                plan.passkeyTrials(),
                seed,
                threads,
                minutes));
        sb.append(table.markdown());
        return sb.toString();
    }

    private static String percentages(Map<Integer, Double> accuracy) {
        var sb = new StringBuilder();
        accuracy.forEach((length, acc) -> sb.append(String.format(Locale.ROOT, "@%d %.0f%% ", length, 100 * acc)));
        return sb.toString().trim();
    }
}
