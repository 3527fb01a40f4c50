package dev.longlora.trainer.backend.cpu;

import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import dev.longlora.trainer.train.AdamWConfig;
import dev.longlora.trainer.train.LrSchedule;
import dev.longlora.trainer.train.Trainer;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A few LongLoRA training steps of a small model (S2, LoRA + embedding + norms, LoRA dropout on), summarised as one
 * hash of every loss and every parameter bit. {@link CpuDeterminismTest} runs it in JVMs with and without the JIT
 * and with different thread counts; its {@code main} prints the summary for a child JVM.
 */
public final class DeterminismProbe {
    static final int STEPS = 2;

    private DeterminismProbe() {}

    /**
     * The hex SHA-256 of the losses and final parameters of {@link #STEPS} training steps on {@code threads}, with
     * sequences of {@code tokens} and an MLP of width {@code intermediate}. Vocabulary 37 and hidden 32 are no
     * multiples of a vector, so every vectorised path also runs its scalar tail.
     */
    static String run(int threads, int tokens, int intermediate) {
        LlamaConfig config = new LlamaConfig(37, 32, intermediate, 2, 4, 2, 1e-5, 10000.0, 128, 2.0, false);
        LoraConfig lora = LoraConfig.longLora().withRank(4, 8).withDropout(0.1);
        try (CpuBackend backend = new CpuBackend(threads);
                LlamaModel model = new LlamaModel(config, lora, backend, 11);
                Trainer trainer = new Trainer(
                        model, new AdamWConfig(0.9, 0.95, 1e-8, 0.01), LrSchedule.cosine(5e-2, 1, STEPS), 1.0)) {
            MessageDigest digest = sha256();
            SplittableRandom rng = new SplittableRandom(5);
            for (int s = 0; s < STEPS; s++) {
                int[] sample = rng.ints(tokens, 0, config.vocabSize()).toArray();
                double loss = trainer.step(List.of(Trainer.Sample.of(sample)), AttentionSpec.s2(4))
                        .loss();
                digest.update(ByteBuffer.allocate(8).putDouble(loss).array());
            }
            for (Parameter p : model.parameters().all()) {
                digest.update(p.name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                float[] v = model.parameters().values(p.name());
                ByteBuffer bits = ByteBuffer.allocate(4 * v.length);
                bits.asFloatBuffer().put(v);
                digest.update(bits.array());
            }
            return HexFormat.of().formatHex(digest.digest());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Prints {@code hash=<hex>} for the arguments threads, tokens, intermediate. */
    public static void main(String[] args) {
        System.out.println(
                "hash=" + run(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2])));
    }
}
