package dev.longlora.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.Shard;
import dev.longlora.trainer.dist.ThreadRanks;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * ZeRO-3 with an LM head tied to a frozen embedding (the one weight two groups read): it is partitioned once, so
 * each rank holds its shard of it once, and gathering it for the head as well as for the embedding trains the bits
 * of ZeRO-2. Between steps a partitioned weight is not resident and using it fails with a message that says why.
 */
class PartitionedWeightsTest {
    private static final int WORLD = 2;
    private static final LlamaConfig TIED = new LlamaConfig(96, 32, 64, 2, 4, 2, 1e-5, 10000.0, 128, 1.0, true);
    private static final LoraConfig LORA = new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj"), false, true, false);

    /** A rank's trainable values after two steps and what it held then. */
    private record Outcome(List<float[]> trainable, long bytes, long expectedBytes) {}

    @Test
    void aTiedFrozenEmbeddingIsPartitionedOnceAndTrainsTheBitsOfZero2() throws Exception {
        List<Outcome> stage2 = run(2);
        List<Outcome> stage3 = run(3);
        for (int r = 0; r < WORLD; r++) {
            for (int i = 0; i < stage2.get(r).trainable().size(); i++) {
                assertArrayEquals(
                        stage2.get(r).trainable().get(i),
                        stage3.get(r).trainable().get(i),
                        "tensor " + i);
            }
            assertEquals(stage3.get(r).expectedBytes(), stage3.get(r).bytes(), "rank " + r + " at ZeRO 3");
        }
    }

    private static List<Outcome> run(int stage) throws Exception {
        List<Collectives> gang = ThreadRanks.gang(WORLD, Duration.ofSeconds(60));
        ExecutorService pool = Executors.newFixedThreadPool(WORLD);
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (Collectives c : gang) futures.add(pool.submit(() -> rank(c, stage)));
            List<Outcome> out = new ArrayList<>();
            for (Future<Outcome> f : futures) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Outcome rank(Collectives comm, int stage) {
        CpuBackend backend = new CpuBackend(1);
        try (LlamaModel model = new LlamaModel(TIED, LORA, backend, 5)) {
            Parameter embed = model.parameters().get(LlamaTensors.EMBEDDING);
            assertFalse(embed.trainable());
            // the embedding once (group 0), each layer's frozen projections; the head reads the embedding again
            long frozenShare = Shard.of((int) embed.numel(), WORLD, comm.rank()).length();
            for (int l = 0; l < TIED.numLayers(); l++) {
                long n = model.weightGroups().get(l + 1).stream()
                        .filter(p -> !p.trainable())
                        .mapToLong(Parameter::numel)
                        .sum();
                frozenShare += Shard.of((int) n, WORLD, comm.rank()).length();
            }
            long t = model.parameters().trainableNumel();
            long tShare = Shard.of((int) t, WORLD, comm.rank()).length();
            long expected = 4 * (frozenShare + t + tShare + 2 * tShare);
            try (Trainer trainer = new Trainer(
                    model,
                    new AdamWConfig(0.9, 0.95, 1e-8, 0.0),
                    LrSchedule.of("cosine", 1e-2, 0, 4),
                    1.0,
                    comm,
                    stage)) {
                for (int step = 0; step < 2; step++) {
                    int[] tokens = new int[32];
                    for (int i = 0; i < tokens.length; i++) tokens[i] = (13 * i + 5 * step + 3 * comm.rank()) % 96;
                    trainer.step(List.of(Trainer.Sample.of(tokens)), AttentionSpec.parse("s2", 2), WORLD);
                }
                model.releaseWorkspace();
                long bytes = backend.bytesInUse();
                if (stage == 3) {
                    Parameter q = model.parameters().get(LlamaTensors.linear(0, "q_proj"));
                    assertFalse(q.resident(), "a partitioned weight is not whole between steps");
                    IllegalStateException e = assertThrows(IllegalStateException.class, q::value);
                    assertTrue(e.getMessage().contains("ZeRO-3"), e.getMessage());
                }
                List<float[]> values = new ArrayList<>();
                for (Parameter p : model.parameters().trainable()) values.add(backend.download(p.value()));
                comm.barrier();
                return new Outcome(values, bytes, expected);
            }
        } finally {
            comm.close();
        }
    }
}
