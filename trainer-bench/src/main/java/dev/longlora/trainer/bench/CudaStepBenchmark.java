package dev.longlora.trainer.bench;

import dev.longlora.trainer.backend.cuda.CudaBackend;
import dev.longlora.trainer.backend.cuda.MatmulPrecision;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.train.AdamWConfig;
import dev.longlora.trainer.train.LrSchedule;
import dev.longlora.trainer.train.Trainer;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tokens/s and peak device memory of one whole LongLoRA training step (S2-Attn, LoRA r=8 on q/k/v/o, trainable
 * embedding and norms, AdamW, gradient clipping) on the CUDA backend, matrix products on bf16 tensor cores by
 * default (like the bf16 peer). The default shape is a ~1.1B LLaMA
 * (TinyLlama-like: 22 layers, hidden 2048, 32 heads over 4 KV heads, vocab 32000) at 8k context. Prints one JSON
 * line; kernels/check/torch_step_gpu.py measures the PyTorch + PEFT + SDPA peer of the same step.
 *
 * <pre>
 * bin/bench CudaStepBenchmark [--seq 8192] [--layers 22] [--steps 3] [--warmup 1] [--matmul bf16|tf32|fp32]
 *     [--checkpointing] [--pattern s2|full]
 * </pre>
 */
public final class CudaStepBenchmark {
    private CudaStepBenchmark() {}

    public static void main(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            boolean flag = i + 1 >= args.length || args[i + 1].startsWith("--");
            opt.put(key, flag ? "true" : args[++i]);
        }
        int seq = Integer.parseInt(opt.getOrDefault("seq", "8192"));
        int layers = Integer.parseInt(opt.getOrDefault("layers", "22"));
        int hidden = Integer.parseInt(opt.getOrDefault("hidden", "2048"));
        int intermediate = Integer.parseInt(opt.getOrDefault("intermediate", "5632"));
        int heads = Integer.parseInt(opt.getOrDefault("heads", "32"));
        int kvHeads = Integer.parseInt(opt.getOrDefault("kv-heads", "4"));
        int vocab = Integer.parseInt(opt.getOrDefault("vocab", "32000"));
        int steps = Integer.parseInt(opt.getOrDefault("steps", "3"));
        int warmup = Integer.parseInt(opt.getOrDefault("warmup", "1"));
        MatmulPrecision matmul = MatmulPrecision.parse(opt.getOrDefault("matmul", "bf16"), "--matmul");
        boolean checkpointing = opt.containsKey("checkpointing");
        AttentionSpec attention =
                opt.getOrDefault("pattern", "s2").equals("full") ? AttentionSpec.full() : AttentionSpec.s2(4);
        // Position interpolation from a 4k base, as LongLoRA extends LLaMA-2.
        double ropeFactor = Math.max(1.0, Math.ceil(seq / 4096.0));
        LlamaConfig config = new LlamaConfig(
                        vocab,
                        hidden,
                        intermediate,
                        layers,
                        heads,
                        kvHeads,
                        1e-5,
                        10000.0,
                        Math.min(seq, 4096),
                        ropeFactor,
                        false)
                .validate();

        try (CudaBackend gpu = CudaBackend.open(0)) {
            gpu.setMatmulPrecision(matmul);
            try (LlamaModel model = new LlamaModel(config, LoraConfig.longLora(), gpu, 1);
                    Trainer trainer =
                            new Trainer(model, AdamWConfig.longLora(), LrSchedule.constantWithWarmup(2e-5, 0), 1.0)) {
                model.setGradientCheckpointing(checkpointing);
                int[] tokens = new SplittableRandom(2).ints(seq, 0, vocab).toArray();
                StepTimer.Times t = StepTimer.time(
                        warmup,
                        steps,
                        gpu::resetPeakBytes,
                        gpu::synchronize,
                        () -> trainer.step(List.of(Trainer.Sample.of(tokens)), attention)
                                .loss());
                double median = t.median();
                double loss = t.lastLoss();
                System.out.printf(
                        Locale.ROOT,
                        "{\"impl\": \"longlora-java-cuda\", \"device\": \"%s\", \"seq\": %d, \"layers\": %d, \"hidden\": %d,"
                                + " \"pattern\": \"%s\", \"matmul\": \"%s\", \"checkpointing\": %s, \"step_s\": %.4f,"
                                + " \"tokens_per_s\": %.1f, \"peak_tensor_bytes\": %d, \"loss\": %.4f}%n",
                        gpu.name().replace("\"", "'"),
                        seq,
                        layers,
                        hidden,
                        attention.pattern().name().toLowerCase(Locale.ROOT),
                        matmul.name().toLowerCase(Locale.ROOT),
                        checkpointing,
                        median,
                        seq / median,
                        gpu.peakBytes(),
                        loss);
            }
        }
    }
}
