package dev.longlora.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.ThreadRanks;
import dev.longlora.trainer.load.ModelLoader;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Stage 0 and 1 all-reduce the gradients in buckets of whole parameters: with a 1000-value bucket on 3 ranks no
 * all-reduce is larger than a bucket (unless one parameter is), together they carry every gradient value once, and the
 * summed, clipped gradient the step used (stage 0: the gradient tensors; stage 1: the first Adam moments) equals one
 * all-reduce of everything within {@link DataParallelEquivalenceTest#TOLERANCE} (each bucket adds in its own ring
 * order).
 */
class BucketedAllReduceTest {
    private static final int WORLD = 3;
    private static final int BUCKET = 1000;

    /** A member of a gang that records the length of every all-reduce it makes. */
    private record Counting(Collectives inner, List<Integer> allReduces) implements Collectives {
        @Override
        public int rank() {
            return inner.rank();
        }

        @Override
        public int worldSize() {
            return inner.worldSize();
        }

        @Override
        public void allReduce(float[] buffer) {
            allReduces.add(buffer.length);
            inner.allReduce(buffer);
        }

        @Override
        public void reduceScatter(float[] buffer, int[] bounds) {
            inner.reduceScatter(buffer, bounds);
        }

        @Override
        public void allGather(float[] buffer) {
            inner.allGather(buffer);
        }

        @Override
        public void broadcast(float[] buffer, int root) {
            inner.broadcast(buffer, root);
        }

        @Override
        public void barrier() {
            inner.barrier();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** A rank's summed gradient, the lengths of its all-reduces, the trainable count and each parameter's size. */
    private record Outcome(float[] values, List<Integer> allReduces, long trainable, Set<Integer> sizes) {}

    @ParameterizedTest(name = "ZeRO {0}")
    @ValueSource(ints = {0, 1})
    void bucketsCarryEveryGradientOnceAndSumAsOneAllReduce(int stage) throws Exception {
        List<Outcome> bucketed = step(stage, BUCKET);
        List<Outcome> whole = step(stage, Integer.MAX_VALUE);
        for (int r = 0; r < WORLD; r++) {
            Outcome b = bucketed.get(r);
            int total = b.allReduces().stream().mapToInt(Integer::intValue).sum();
            assertEquals(b.trainable(), total, "the buckets carry every gradient value once");
            assertTrue(b.allReduces().size() > 2, "several buckets: " + b.allReduces());
            for (int n : b.allReduces()) {
                assertTrue(n <= BUCKET || b.sizes().contains(n), "a bucket of " + n + " values is one parameter");
            }
            assertEquals(List.of((int) b.trainable()), whole.get(r).allReduces(), "one bucket when it fits");
            double error =
                    DataParallelEquivalenceTest.relativeError(whole.get(r).values(), b.values());
            System.out.printf(
                    Locale.ROOT,
                    "ZeRO %d rank %d: %d buckets, gradient's relative error against one all-reduce %.2e%n",
                    stage,
                    r,
                    b.allReduces().size(),
                    error);
            assertTrue(error <= DataParallelEquivalenceTest.TOLERANCE, "relative error " + error);
        }
    }

    /** One optimizer step from fixed per-rank gradients on {@link #WORLD} thread ranks; what each rank summed. */
    private static List<Outcome> step(int stage, int bucketValues) throws Exception {
        List<Collectives> gang = ThreadRanks.gang(WORLD, Duration.ofSeconds(60));
        ExecutorService pool = Executors.newFixedThreadPool(WORLD);
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (Collectives c : gang) {
                futures.add(pool.submit(() -> rank(new Counting(c, new ArrayList<>()), stage, bucketValues)));
            }
            List<Outcome> out = new ArrayList<>();
            for (Future<Outcome> f : futures) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Outcome rank(Counting comm, int stage, int bucketValues) {
        CpuBackend backend = new CpuBackend(1);
        AdamWConfig adamw = new AdamWConfig(0.9, 0.95, 1e-8, 0.01);
        try (LlamaModel model = ModelLoader.load("builtin:tiny", null, LoraConfig.longLora(), backend, 3)) {
            List<Parameter> trainable = model.parameters().trainable();
            SplittableRandom random = new SplittableRandom(100 + comm.rank());
            Set<Integer> sizes = new HashSet<>();
            for (Parameter p : trainable) {
                float[] g = new float[(int) p.numel()];
                for (int i = 0; i < g.length; i++)
                    g[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 3)));
                backend.upload(p.grad(), g);
                sizes.add(g.length);
            }
            FlatLayout layout = new FlatLayout(trainable);
            try (AdamW full = new AdamW(backend, trainable, adamw);
                    DataParallel dp = new DataParallel(comm, stage, model, layout, adamw, bucketValues)) {
                comm.allReduces().clear();
                dp.step(1e-3, 1.0, full);
                // what the summed gradient left behind: the clipped sums themselves at stage 0, the first moments
                // ((1 - beta1) x the clipped sum after one step) at stage 1
                float[] values;
                if (stage == 0) {
                    values = new float[layout.length()];
                    for (int i = 0; i < trainable.size(); i++) {
                        float[] g = backend.download(trainable.get(i).grad());
                        System.arraycopy(g, 0, values, layout.offset(i), g.length);
                    }
                } else {
                    values = new float[layout.length()];
                    var state = dp.exportOptimizerState();
                    for (int i = 0; i < trainable.size(); i++) {
                        float[] m = state.get(trainable.get(i).name()).m();
                        System.arraycopy(m, 0, values, layout.offset(i), m.length);
                    }
                }
                comm.barrier();
                return new Outcome(values, List.copyOf(comm.allReduces()), layout.length(), sizes);
            }
        } finally {
            comm.close();
        }
    }
}
