package dev.longlora.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.ThreadRanks;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.TinyModels;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Each of N ranks holds 1/N of the optimizer state, and a sharded AdamW step gives exactly the bits of the backend's
 * whole-tensor update.
 */
class ShardedAdamWTest {
    private static final AdamWConfig ADAMW = new AdamWConfig(0.9, 0.95, 1e-8, 0.01);

    @Test
    void fourRanksHoldAQuarterEachAndUpdateLikeTheBackend() {
        LlamaConfig config = TinyModels.gqaConfig(2.0);
        try (CpuBackend be = new CpuBackend(1);
                LlamaModel model = new LlamaModel(config, LoraConfig.longLora().withRank(4, 8), be, 3)) {
            FlatLayout layout = new FlatLayout(model.parameters().trainable());
            int n = layout.length();
            SplittableRandom random = new SplittableRandom(5);
            float[] values = new float[n];
            float[] grads = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = (float) random.nextDouble(-1, 1);
                grads[i] = (float) random.nextDouble(-1e-2, 1e-2);
            }
            // the backend's whole-tensor update, twice
            float[] expected;
            try (Tensor p = be.allocate(n);
                    Tensor g = be.allocate(n);
                    Tensor m = be.allocate(n);
                    Tensor v = be.allocate(n)) {
                be.upload(p, values);
                be.upload(g, grads);
                for (int step = 1; step <= 2; step++) {
                    be.adamwUpdate(p, g, m, v, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.01f, step);
                }
                expected = be.download(p);
            }
            List<Collectives> gang = ThreadRanks.gang(4, Duration.ofSeconds(10));
            float[] sharded = values.clone();
            int held = 0;
            for (Collectives c : gang) {
                try (ShardedAdamW opt = new ShardedAdamW(be, layout, ADAMW, c)) {
                    int part = opt.shard().length();
                    assertTrue(Math.abs(part - n / 4.0) <= 1, "rank " + c.rank() + " holds " + part + " of " + n);
                    held += part;
                    float[] shardGrads = java.util.Arrays.copyOfRange(
                            grads, opt.shard().start(), opt.shard().end());
                    for (int step = 1; step <= 2; step++) {
                        opt.step(sharded, shardGrads, 1e-3);
                    }
                    assertEquals(2, opt.ownPart().step());
                    assertEquals(part, opt.ownPart().m().length);
                }
            }
            assertEquals(n, held, "the shards cover the buffer once");
            assertArrayEquals(expected, sharded, "sharded AdamW == backend AdamW, bit for bit");
        }
    }
}
