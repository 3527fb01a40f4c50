package dev.longlora.trainer.model;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.layers.DecoderLayer;
import dev.longlora.trainer.layers.LoraLinear;
import dev.longlora.trainer.layers.SelfAttention;
import dev.longlora.trainer.layers.SwiGluMlp;
import dev.longlora.trainer.parameter.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * A LLaMA-family causal language model with explicit forward and backward passes, LoRA adapters and a choice of
 * trainable parameters. One call processes one sequence of T tokens (a micro-batch of 1, LongLoRA's per-device
 * batch); gradient accumulation over calls gives larger batches. Inference runs the same layers, either over a whole
 * sequence ({@link #logitsAt}) or token by token over a {@link KvCache} ({@link #decode}).
 *
 * <p>Labels follow HF: {@code labels} has the same length as {@code tokens} and position t is trained to predict
 * {@code labels[t + 1]}; a label of {@value #IGNORE_INDEX} is skipped. The loss is the mean over the counted
 * positions.
 */
public final class LlamaModel implements AutoCloseable {
    /** Label value that contributes no loss (HF / PyTorch ignore_index). */
    public static final int IGNORE_INDEX = -100;
    /** Index of the embedding's group in {@link #weightGroups()}. */
    public static final int EMBEDDING_GROUP = 0;

    /** Rows of logits that inference ({@link #argmaxNextTokens}, {@link #logitsAt}) computes at once. */
    private static final int LOGIT_ROWS = 256;

    private final LlamaConfig config;
    private final LoraConfig lora;
    private final Backend backend;
    private final ParameterStore params;
    private final Parameter embed;
    private final Parameter finalNorm;
    private final Parameter lmHead;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final long seed;
    private final boolean randomBase;
    private double ropeFactor;
    private boolean gradientCheckpointing = true;
    private long dropoutCounter;
    private Workspace workspace;
    private DecodeWorkspace decodeWorkspace;
    private WeightResidency residency = WeightResidency.RESIDENT;
    private GradientResidency gradients = GradientResidency.WHOLE;

    /**
     * Builds a model with freshly initialised weights: base weights N(0, 0.02), norms 1, LoRA A Kaiming-uniform
     * (bound 1/sqrt(in), PEFT's default), LoRA B zero. Every parameter's init is seeded by (seed, its name), so it does
     * not depend on construction order. Load pretrained weights afterwards through {@link #parameters()}, or build
     * with {@link #forLoading} to skip the random fill that a load would overwrite.
     */
    public LlamaModel(LlamaConfig config, LoraConfig lora, Backend backend, long seed) {
        this(config, lora, backend, seed, true);
    }

    /**
     * Builds a model whose base (non-LoRA) weights are left unset because the caller is about to load every one of
     * them (from a model directory or the built-in weights): filling them randomly first costs seconds on a real
     * model and is thrown away. LoRA A and B still get their init (Kaiming-uniform, zero), as a model directory does
     * not hold them. Until every base weight has been written through {@link ParameterStore#setValues}, the model
     * refuses to run, naming a weight that was never loaded.
     */
    public static LlamaModel forLoading(LlamaConfig config, LoraConfig lora, Backend backend, long seed) {
        return new LlamaModel(config, lora, backend, seed, false);
    }

    private LlamaModel(LlamaConfig config, LoraConfig lora, Backend backend, long seed, boolean randomBase) {
        this.randomBase = randomBase;
        this.config = config.validate();
        this.lora = lora.validate();
        this.backend = backend;
        this.seed = seed;
        this.ropeFactor = config.ropeScalingFactor();
        this.params = new ParameterStore(backend);
        for (LlamaTensors.Entry e : LlamaTensors.of(config, lora)) {
            init(params.add(e.name(), e.shape(), e.kind().trainable(lora)), e.kind());
        }
        float scaling = (float) lora.scaling();
        float dropout = (float) lora.dropout();
        embed = params.get(LlamaTensors.EMBEDDING);
        for (int i = 0; i < config.numLayers(); i++) {
            LoraLinear q = linear(i, "q_proj", scaling, dropout);
            LoraLinear k = linear(i, "k_proj", scaling, dropout);
            LoraLinear v = linear(i, "v_proj", scaling, dropout);
            LoraLinear o = linear(i, "o_proj", scaling, dropout);
            LoraLinear gate = linear(i, "gate_proj", scaling, dropout);
            LoraLinear up = linear(i, "up_proj", scaling, dropout);
            LoraLinear down = linear(i, "down_proj", scaling, dropout);
            layers.add(new DecoderLayer(
                    params.get(LlamaTensors.inputNorm(i)),
                    params.get(LlamaTensors.postAttentionNorm(i)),
                    new SelfAttention(q, k, v, o, config.numHeads(), config.numKvHeads()),
                    new SwiGluMlp(gate, up, down),
                    (float) config.rmsNormEps()));
        }
        finalNorm = params.get(LlamaTensors.FINAL_NORM);
        lmHead = config.tieWordEmbeddings() ? embed : params.get(LlamaTensors.LM_HEAD);
    }

    /** Linear layer {@code module} of {@code layer} over its parameters (with its adapter, when it has one). */
    private LoraLinear linear(int layer, String module, float scaling, float dropout) {
        String weight = LlamaTensors.linear(layer, module);
        if (!lora.adapts(module)) {
            return new LoraLinear(params.get(weight), null, null, scaling, dropout);
        }
        return new LoraLinear(
                params.get(weight),
                params.get(LlamaTensors.loraA(weight)),
                params.get(LlamaTensors.loraB(weight)),
                scaling,
                dropout);
    }

    private void init(Parameter p, LlamaTensors.Kind kind) {
        boolean loraFactor = kind == LlamaTensors.Kind.LORA_A || kind == LlamaTensors.Kind.LORA_B;
        if (!randomBase && !loraFactor) {
            params.markAwaitingLoad(p);
            return;
        }
        float[] data = new float[Math.toIntExact(p.numel())];
        SplittableRandom rng =
                new SplittableRandom(seed * 0x9E3779B97F4A7C15L + p.name().hashCode());
        switch (kind) {
            case NORM -> Arrays.fill(data, 1f);
            case LORA_A -> {
                double bound = 1.0 / Math.sqrt(p.shape()[1]);
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) rng.nextDouble(-bound, bound);
                }
            }
            case LORA_B -> {}
            case EMBEDDING, LINEAR, LM_HEAD -> {
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) (0.02 * rng.nextGaussian());
                }
            }
        }
        backend.upload(p.value(), data);
    }

    /** The model's shape. */
    public LlamaConfig config() {
        return config;
    }

    /** What is trainable. */
    public LoraConfig loraConfig() {
        return lora;
    }

    /** The backend holding all tensors. */
    public Backend backend() {
        return backend;
    }

    /** Every weight by HF/PEFT name (values, gradients of trainable ones). */
    public ParameterStore parameters() {
        return params;
    }

    /** The linear PI factor used by RoPE (initially the config's {@code rope_scaling.factor}). */
    public double ropeScalingFactor() {
        return ropeFactor;
    }

    /** Uses another linear PI factor from now on (e.g. eval with {@code --rope-factor}). */
    public void setRopeScalingFactor(double factor) {
        if (!(factor > 0) || !Double.isFinite(factor)) {
            throw new IllegalArgumentException(
                    "rope factor " + factor + " must be a positive number (1 = no interpolation)");
        }
        this.ropeFactor = factor;
    }

    /** Whether backward recomputes each layer from its kept input (default on) instead of keeping all activations. */
    public boolean gradientCheckpointing() {
        return gradientCheckpointing;
    }

    /** Turns gradient checkpointing on or off. */
    public void setGradientCheckpointing(boolean on) {
        this.gradientCheckpointing = on;
    }

    /**
     * The weight groups {@link WeightResidency} brackets, by index: {@link #EMBEDDING_GROUP} (the embedding), 1..L
     * (decoder layer i at index i + 1: its norms and projections with their adapters), then the head (final norm and
     * LM head; the embedding again when the two are tied).
     */
    public List<List<Parameter>> weightGroups() {
        List<List<Parameter>> groups = new ArrayList<>();
        groups.add(List.of(embed));
        for (int i = 0; i < layers.size(); i++) {
            List<Parameter> layer = new ArrayList<>();
            String prefix = LlamaTensors.layerPrefix(i);
            for (Parameter p : params.all()) {
                if (p.name().startsWith(prefix)) layer.add(p);
            }
            groups.add(List.copyOf(layer));
        }
        groups.add(List.of(finalNorm, lmHead));
        return List.copyOf(groups);
    }

    private int layerGroup(int layer) {
        return layer + 1;
    }

    private int headGroup() {
        return layers.size() + 1;
    }

    /** Uses {@code residency} for every later pass (ZeRO-3 installs its partitioned weights here). */
    public void setWeightResidency(WeightResidency residency) {
        this.residency = Objects.requireNonNull(residency, "residency");
    }

    /** Uses {@code gradients} for every later backward pass (ZeRO-2/3 install their gradient shards here). */
    public void setGradientResidency(GradientResidency gradients) {
        this.gradients = Objects.requireNonNull(gradients, "gradients");
    }

    /** Number of dropout masks drawn so far (part of the RNG state a checkpoint saves). */
    public long dropoutCounter() {
        return dropoutCounter;
    }

    /** Restores the dropout RNG position (resume). */
    public void setDropoutCounter(long counter) {
        this.dropoutCounter = counter;
    }

    /** Zeroes every gradient. */
    public void zeroGrads() {
        params.zeroGrads();
    }

    /**
     * One forward and backward pass over {@code tokens}: returns the mean next-token loss and accumulates
     * {@code gradScale} times its gradient into every trainable parameter (pass 1/accumulationSteps when
     * accumulating). Returns 0 and adds nothing when no label counts.
     */
    public double forwardBackward(int[] tokens, int[] labels, AttentionSpec attention, float gradScale) {
        Run run = forward(tokens, labels, attention, true);
        int counted = run.counted;
        if (counted == 0) {
            return 0.0;
        }
        return backward(run, workspace, gradScale / counted) / counted;
    }

    /** {@link #forwardBackward(int[], int[], AttentionSpec, float)} with gradScale 1. */
    public double forwardBackward(int[] tokens, int[] labels, AttentionSpec attention) {
        return forwardBackward(tokens, labels, attention, 1f);
    }

    /** Mean next-token loss without gradients (NaN when no label counts). */
    public double loss(int[] tokens, int[] labels, AttentionSpec attention) {
        Run run = forward(tokens, labels, attention, false);
        if (run.counted == 0) {
            return Double.NaN;
        }
        residency.acquire(headGroup());
        double lossSum = backend.lmHeadCrossEntropy(workspace.normed, lmHead.value(), run.targets, null, null, 1f);
        residency.release(headGroup());
        return lossSum / run.counted;
    }

    /** The most likely next token at every position (row t predicts token t + 1), from one forward pass. */
    public int[] argmaxNextTokens(int[] tokens, AttentionSpec attention) {
        forward(tokens, null, attention, false);
        int[] out = new int[tokens.length];
        for (int r0 = 0; r0 < tokens.length; r0 += LOGIT_ROWS) {
            int[] rows = IntStream.range(r0, Math.min(tokens.length, r0 + LOGIT_ROWS))
                    .toArray();
            try (Tensor logits = logitsOfRows(rows)) {
                System.arraycopy(backend.argmaxRows(logits), 0, out, r0, rows.length);
            }
        }
        return out;
    }

    /** The logits [vocab] at each of the given positions, from one forward pass. */
    public float[][] logitsAt(int[] tokens, AttentionSpec attention, int[] positions) {
        for (int p : positions) {
            if (p < 0 || p >= tokens.length) {
                throw new IllegalArgumentException(
                        "position " + p + " is outside the sequence of " + tokens.length + " tokens");
            }
        }
        forward(tokens, null, attention, false);
        int v = config.vocabSize();
        float[][] out = new float[positions.length][];
        for (int r0 = 0; r0 < positions.length; r0 += LOGIT_ROWS) {
            int[] rows = Arrays.copyOfRange(positions, r0, Math.min(positions.length, r0 + LOGIT_ROWS));
            float[] all;
            try (Tensor logits = logitsOfRows(rows)) {
                all = backend.download(logits);
            }
            for (int i = 0; i < rows.length; i++) {
                out[r0 + i] = Arrays.copyOfRange(all, i * v, (i + 1) * v);
            }
        }
        return out;
    }

    /**
     * The logits [rows, vocab] of the given rows of the last forward's final hidden states, in a new tensor: the
     * embedding op gathers the rows, so inference never builds the [T, V] logits of the whole sequence either.
     */
    private Tensor logitsOfRows(int[] rows) {
        Tensor logits = backend.allocate(rows.length, config.vocabSize());
        try (Tensor picked = backend.allocate(rows.length, config.hiddenSize())) {
            backend.embeddingForward(picked, workspace.normed, rows);
            residency.acquire(headGroup());
            backend.matmul(logits, picked, false, lmHead.value(), true, 1f, 0f);
            residency.release(headGroup());
        }
        return logits;
    }

    /** An empty KV cache for decoding up to {@code capacity} tokens with {@link #decode}, on the model's backend. */
    public KvCache newKvCache(int capacity) {
        return new KvCache(this, capacity);
    }

    /**
     * KV-cached inference: runs {@code tokens} at the positions after the cache's, [length, length + n), with full
     * causal attention to the cached tokens and to each other, adds their keys and values to the cache and returns
     * the next-token logits [vocab] of the last one. The layers are those of the training forward, LoRA included,
     * with the model's current PI factor and without LoRA dropout (inference): for a model without dropout the logits
     * are those of {@link #logitsAt} over the whole sequence, on the CPU backend bit for bit.
     */
    public float[] decode(KvCache cache, int... tokens) {
        params.requireLoaded();
        int n = tokens.length;
        if (n == 0) {
            throw new IllegalArgumentException("decoding needs at least one token");
        }
        for (int i = 0; i < n; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at position " + (cache.length() + i)
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        cache.requireRoom(this, n, ropeFactor);
        DecodeWorkspace w = decodeWorkspace(n);
        SelfAttention.Geometry g = new SelfAttention.Geometry(n, false, (float) config.ropeTheta(), (float) ropeFactor);
        residency.acquire(EMBEDDING_GROUP);
        backend.embeddingForward(w.hidden[0], embed.value(), tokens);
        residency.release(EMBEDDING_GROUP);
        for (int l = 0; l < layers.size(); l++) {
            residency.acquire(layerGroup(l));
            // Seed 0: inference activations draw no dropout mask.
            layers.get(l).forward(backend, w.hidden[(l + 1) % 2], w.hidden[l % 2], w.acts, g, 0, cache.layer(l));
            residency.release(layerGroup(l));
        }
        // Only the last token's logits are wanted: the embedding op is a row gather, out[0] = table[n - 1].
        backend.embeddingForward(w.last, w.hidden[layers.size() % 2], new int[] {n - 1});
        residency.acquire(headGroup());
        backend.rmsnormForward(w.normed, w.rstd, w.last, finalNorm.value(), (float) config.rmsNormEps());
        backend.matmul(w.logits, w.normed, false, lmHead.value(), true, 1f, 0f);
        residency.release(headGroup());
        cache.advance(n);
        return backend.download(w.logits);
    }

    /** Frees the activations and gradient scratch kept between calls (they are reallocated on the next call). */
    public void releaseWorkspace() {
        if (workspace != null) {
            workspace.close();
            workspace = null;
        }
        if (decodeWorkspace != null) {
            decodeWorkspace.close();
            decodeWorkspace = null;
        }
    }

    @Override
    public void close() {
        releaseWorkspace();
        for (Parameter p : params.all()) {
            if (p.resident()) p.value().close();
            if (p.hasGrad()) {
                p.grad().close();
            }
        }
    }

    // ---- internals ---------------------------------------------------------------------------------------

    private record Run(int[] tokens, int[] targets, int counted, SelfAttention.Geometry geometry, long dropoutStep) {}

    private Run forward(int[] tokens, int[] labels, AttentionSpec attention, boolean training) {
        params.requireLoaded();
        int t = tokens.length;
        attention.validate(t);
        for (int i = 0; i < t; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at position " + i
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        if (labels != null && labels.length != t) {
            throw new IllegalArgumentException("labels have length " + labels.length + " but tokens have length " + t);
        }
        int[] targets = new int[t];
        int counted = 0;
        for (int i = 0; i < t; i++) {
            int label = labels == null || i + 1 >= t ? IGNORE_INDEX : labels[i + 1];
            if (label != IGNORE_INDEX && (label < 0 || label >= config.vocabSize())) {
                throw new IllegalArgumentException(
                        "label " + label + " at position " + (i + 1) + " is outside the vocabulary [0, "
                                + config.vocabSize() + ") and is not the ignore index -100");
            }
            targets[i] = label;
            if (label != IGNORE_INDEX) {
                counted++;
            }
        }
        Workspace w = workspace(t, training && !gradientCheckpointing);
        SelfAttention.Geometry g = new SelfAttention.Geometry(
                attention.groupSize(t), attention.shiftsHalfTheHeads(), (float) config.ropeTheta(), (float) ropeFactor);
        long step = training ? dropoutCounter++ : -1;
        residency.acquire(EMBEDDING_GROUP);
        backend.embeddingForward(w.residuals[0], embed.value(), tokens);
        residency.release(EMBEDDING_GROUP);
        for (int l = 0; l < layers.size(); l++) {
            DecoderLayer.Acts acts = w.perLayer != null && training ? w.perLayer[l] : w.shared;
            residency.acquire(layerGroup(l));
            layers.get(l).forward(backend, w.residuals[l + 1], w.residuals[l], acts, g, layerSeed(step, l), null);
            residency.release(layerGroup(l));
        }
        residency.acquire(headGroup());
        backend.rmsnormForward(
                w.normed, w.rstd, w.residuals[layers.size()], finalNorm.value(), (float) config.rmsNormEps());
        residency.release(headGroup());
        return new Run(tokens, targets, counted, g, step);
    }

    /** Backward from the fused LM head + cross-entropy (scaled by {@code lossScale}); returns the summed loss. */
    private double backward(Run run, Workspace w, float lossScale) {
        int n = layers.size();
        backend.zero(w.dNormed);
        gradients.beforeBackward(headGroup());
        residency.acquire(headGroup());
        // Writes dL/d(final norm output) into dNormed and adds the LM head's gradient, chunk by chunk.
        double lossSum = backend.lmHeadCrossEntropy(
                w.normed, lmHead.value(), run.targets, w.dNormed, lmHead.trainable() ? lmHead.grad() : null, lossScale);
        backend.zero(w.dResid);
        backend.rmsnormBackward(w.dResid, finalNorm.grad(), w.dNormed, w.residuals[n], finalNorm.value(), w.rstd);
        residency.release(headGroup());
        gradients.afterBackward(headGroup());
        for (int l = n - 1; l >= 0; l--) {
            DecoderLayer layer = layers.get(l);
            gradients.beforeBackward(layerGroup(l));
            residency.acquire(layerGroup(l));
            DecoderLayer.Acts acts;
            if (w.perLayer != null) {
                acts = w.perLayer[l];
            } else {
                acts = w.shared;
                layer.forward(backend, null, w.residuals[l], acts, run.geometry, layerSeed(run.dropoutStep, l), null);
            }
            layer.backward(
                    backend, w.dResid, w.residuals[l], acts, run.geometry, layerSeed(run.dropoutStep, l), w.scratch);
            residency.release(layerGroup(l));
            gradients.afterBackward(layerGroup(l));
        }
        gradients.beforeBackward(EMBEDDING_GROUP);
        if (embed.trainable()) {
            backend.embeddingBackward(embed.grad(), w.dResid, run.tokens);
        }
        gradients.afterBackward(EMBEDDING_GROUP);
        return lossSum;
    }

    private long layerSeed(long step, int layer) {
        long z = seed ^ (step * 0x9E3779B97F4A7C15L) ^ ((layer + 1L) * 0xBF58476D1CE4E5B9L);
        z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 29)) << 4;
    }

    private Workspace workspace(int tokens, boolean keepAllLayers) {
        if (workspace != null && (workspace.tokens != tokens || (keepAllLayers && workspace.perLayer == null))) {
            releaseWorkspace();
        }
        if (workspace == null) {
            workspace = new Workspace(tokens, keepAllLayers);
        }
        return workspace;
    }

    private DecodeWorkspace decodeWorkspace(int tokens) {
        if (decodeWorkspace != null && decodeWorkspace.tokens != tokens) {
            decodeWorkspace.close();
            decodeWorkspace = null;
        }
        if (decodeWorkspace == null) {
            decodeWorkspace = new DecodeWorkspace(tokens);
        }
        return decodeWorkspace;
    }

    /** Activations of one decoding call over T tokens: an inference pass keeps nothing for backward. */
    private final class DecodeWorkspace implements AutoCloseable {
        final int tokens;
        /** The input and output of a layer, swapping roles from layer to layer. */
        final Tensor[] hidden;

        final DecoderLayer.Acts acts;
        final Tensor last;
        final Tensor normed;
        final Tensor rstd;
        final Tensor logits;

        DecodeWorkspace(int tokens) {
            this.tokens = tokens;
            int c = config.hiddenSize();
            hidden = new Tensor[] {backend.allocate(tokens, c), backend.allocate(tokens, c)};
            acts = new DecoderLayer.Acts(backend, layers.get(0), tokens, c, false);
            last = backend.allocate(1, c);
            normed = backend.allocate(1, c);
            rstd = backend.allocate(1);
            logits = backend.allocate(1, config.vocabSize());
        }

        @Override
        public void close() {
            acts.close();
            for (Tensor t : new Tensor[] {hidden[0], hidden[1], last, normed, rstd, logits}) {
                t.close();
            }
        }
    }

    /** Activations and gradient scratch for one sequence length. */
    private final class Workspace implements AutoCloseable {
        final int tokens;
        final Tensor[] residuals;
        final DecoderLayer.Acts shared;
        final DecoderLayer.Acts[] perLayer;
        final DecoderLayer.Scratch scratch;
        final Tensor normed;
        final Tensor rstd;
        final Tensor dResid;
        final Tensor dNormed;

        Workspace(int tokens, boolean keepAllLayers) {
            this.tokens = tokens;
            int c = config.hiddenSize();
            residuals = new Tensor[layers.size() + 1];
            for (int i = 0; i < residuals.length; i++) {
                residuals[i] = backend.allocate(tokens, c);
            }
            DecoderLayer first = layers.get(0);
            if (keepAllLayers) {
                perLayer = new DecoderLayer.Acts[layers.size()];
                for (int i = 0; i < perLayer.length; i++) {
                    perLayer[i] = new DecoderLayer.Acts(backend, layers.get(i), tokens, c);
                }
                shared = perLayer[0];
            } else {
                perLayer = null;
                shared = new DecoderLayer.Acts(backend, first, tokens, c);
            }
            scratch = new DecoderLayer.Scratch(
                    backend, first, tokens, c, lora.rank(), lora.hasAdapters() && lora.dropout() > 0);
            normed = backend.allocate(tokens, c);
            rstd = backend.allocate(tokens);
            dResid = backend.allocate(tokens, c);
            dNormed = backend.allocate(tokens, c);
        }

        @Override
        public void close() {
            for (Tensor r : residuals) {
                r.close();
            }
            if (perLayer != null) {
                for (DecoderLayer.Acts a : perLayer) {
                    a.close();
                }
            } else {
                shared.close();
            }
            scratch.close();
            for (Tensor t : new Tensor[] {normed, rstd, dResid, dNormed}) {
                t.close();
            }
        }
    }
}
