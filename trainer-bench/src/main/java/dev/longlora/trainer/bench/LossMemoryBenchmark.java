package dev.longlora.trainer.bench;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Peak memory of one LongLoRA training step at long contexts on the CPU backend, by the backend's own accounting
 * (live tensors: weights, gradients, activations, loss buffers): what the [T, V] logits cost and what the fused LM
 * head saves. The model is LLaMA-shaped where the loss is concerned (vocabulary 32000, untied LM head) and small
 * elsewhere (hidden 128, 2 layers), so a 32k step runs on a laptop; the logits' share is independent of the
 * hidden size. S2 with 4 groups, LoRA r=8 on q/k/v/o with trainable embedding and norms, gradient checkpointing
 * on. Only the public model API is used, so the same file measures any commit of the trainer.
 *
 * <p>usage: {@code bin/bench LossMemoryBenchmark [TOKENS ...] (default 8192 32768)}; a 32k step with the former
 * full-logits loss needs a heap of about 8 GB ({@code LONGLORA_JAVA_OPTS=-Xmx8g}).
 */
public final class LossMemoryBenchmark {
    private static final LlamaConfig CONFIG =
            new LlamaConfig(32000, 128, 344, 2, 4, 4, 1e-5, 10000.0, 32768, 8.0, false);
    private static final double MIB = 1 << 20;

    private LossMemoryBenchmark() {}

    public static void main(String[] args) {
        int[] lengths = args.length == 0 ? new int[] {8192, 32768} : new int[args.length];
        for (int i = 0; i < args.length; i++) {
            lengths[i] = Integer.parseInt(args[i]);
        }
        System.out.printf(
                Locale.ROOT,
                "vocab %d, hidden %d, %d layers, S2/4, LoRA r=8 + embed + norms, checkpointing on, %d cores%n"
                        + "%8s %14s %16s %18s %10s%n",
                CONFIG.vocabSize(),
                CONFIG.hiddenSize(),
                CONFIG.numLayers(),
                Runtime.getRuntime().availableProcessors(),
                "tokens",
                "weights MiB",
                "step peak MiB",
                "[T, V] logits MiB",
                "step s");
        for (int tokens : lengths) {
            measure(tokens);
        }
    }

    private static void measure(int tokens) {
        try (CpuBackend backend = new CpuBackend(Runtime.getRuntime().availableProcessors());
                LlamaModel model = new LlamaModel(CONFIG, LoraConfig.longLora(), backend, 1)) {
            SplittableRandom rng = new SplittableRandom(7);
            int[] ids = new int[tokens];
            for (int i = 0; i < tokens; i++) {
                ids[i] = rng.nextInt(CONFIG.vocabSize());
            }
            long weights = backend.bytesInUse();
            backend.resetPeakBytes();
            long t0 = System.nanoTime();
            model.forwardBackward(ids, ids, AttentionSpec.s2(4));
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "%8d %14.1f %16.1f %18.1f %10.1f%n",
                    tokens,
                    weights / MIB,
                    backend.peakBytes() / MIB,
                    4.0 * tokens * CONFIG.vocabSize() / MIB,
                    seconds);
        }
    }
}
