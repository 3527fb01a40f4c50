package dev.longlora.trainer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.longlora.contract.NodeUnfitException;
import dev.longlora.trainer.dist.Collectives;
import dev.longlora.trainer.dist.ThreadRanks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The NCCL binding against the real libnccl.so.2 of the PyPI wheel (nvidia-nccl-cu13, which the PyTorch reference venv
 * of tools/setup.d brings): loading, version, error strings and the unique-id carriage work without a GPU; the
 * collectives themselves need GPUs and skip with the reason where there are none.
 */
class NcclTest {

    @Test
    void aMissingLibraryIsTheNodesFaultAndNamesWhereItLooked() {
        NodeUnfitException e = assertThrows(
                NodeUnfitException.class, () -> Nccl.load(List.of("/nonexistent/libnccl.so.2", "libnccl-none.so.9")));
        assertTrue(e.getMessage().contains("/nonexistent/libnccl.so.2"), e.getMessage());
        assertTrue(e.getMessage().contains(Nccl.LIBRARY_ENV), e.getMessage());
    }

    @Test
    void theUniqueIdSurvivesTheFloatCarriageForEveryByteValue() {
        byte[] id = new byte[Nccl.UNIQUE_ID_BYTES];
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) (i * 2 + 255 - i / 2);
        }
        id[0] = (byte) 0xff;
        id[1] = (byte) 0xff; // the pair 0xffff: the largest value carried
        id[2] = (byte) 0x80;
        assertArrayEquals(id, NcclCollectives.toBytes(NcclCollectives.toFloats(id)));
    }

    @Test
    void theWheelsLibraryLoadsAndSpeaksNccl() {
        Nccl nccl = Nccl.load(List.of(wheelLibrary().toString()));
        int version = nccl.version();
        assertTrue(version >= BackendSelector.MIN_NCCL_VERSION, Nccl.versionString(version));
        assertTrue(Nccl.versionString(version).startsWith("2."), Nccl.versionString(version));
        // ncclInvalidArgument's text comes from the library itself.
        assertTrue(nccl.errorString(4).toLowerCase().contains("invalid argument"), nccl.errorString(4));
        // A unique id needs no GPU in NCCL 2.x; if a future NCCL wants one, the failure must be NCCL's words.
        try {
            assertEquals(Nccl.UNIQUE_ID_BYTES, nccl.uniqueId().length);
        } catch (NcclException e) {
            assertTrue(e.getMessage().startsWith("ncclGetUniqueId failed: NCCL status"), e.getMessage());
        }
    }

    @Test
    void twoGpuRanksSumThroughNccl() throws Exception {
        Optional<String> noGpu = CudaAvailability.unavailableReason();
        assumeTrue(noGpu.isEmpty(), () -> "needs a GPU: " + noGpu.orElse(""));
        int gpus = CudaAvailability.deviceCount();
        int world = Math.min(2, gpus);
        Nccl nccl = Nccl.load();
        List<Collectives> host = ThreadRanks.gang(world, Duration.ofSeconds(60));
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<float[][]>> results = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (CudaBackend backend = CudaBackend.open(rank);
                            Collectives comm = backend.collectivesOver(host.get(rank), Duration.ofSeconds(60))) {
                        float[] sum = {rank + 1, 10 * (rank + 1), 0.5f};
                        comm.allReduce(sum);
                        float[] scattered = {1, 2, 3, 4, 5};
                        comm.reduceScatter(scattered);
                        float[] gathered = new float[5];
                        var mine = dev.longlora.trainer.dist.Shard.of(5, world, rank);
                        for (int i = mine.start(); i < mine.end(); i++) gathered[i] = 100 + i;
                        comm.allGather(gathered);
                        return new float[][] {sum, scattered, gathered};
                    }
                }));
            }
            float triangle = world * (world + 1) / 2f;
            for (int r = 0; r < world; r++) {
                float[][] out = results.get(r).get();
                assertArrayEquals(new float[] {triangle, 10 * triangle, 0.5f * world}, out[0]);
                var mine = dev.longlora.trainer.dist.Shard.of(5, world, r);
                for (int i = mine.start(); i < mine.end(); i++) assertEquals((i + 1) * world, out[1][i]);
                assertArrayEquals(new float[] {100, 101, 102, 103, 104}, out[2]);
            }
        } finally {
            pool.shutdownNow();
            host.forEach(Collectives::close);
        }
        assertTrue(nccl.version() > 0);
    }

    /** libnccl.so.2 of the reference venv, which CI always has; elsewhere the test is skipped with the reason. */
    static Path wheelLibrary() {
        String python = System.getenv("LONGLORA_TORCH_PYTHON");
        Optional<Path> found = Optional.empty();
        if (python != null && !python.isBlank()) {
            Path venv = Path.of(python).getParent().getParent();
            try (var libs = Files.newDirectoryStream(venv.resolve("lib"), "python3*")) {
                for (Path lib : libs) {
                    Path p = lib.resolve("site-packages/nvidia/nccl/lib/libnccl.so.2");
                    if (Files.isRegularFile(p)) found = Optional.of(p);
                }
            } catch (IOException e) {
                // no venv there
            }
        }
        if (found.isEmpty()) {
            String why = "no libnccl.so.2 in the PyTorch reference venv (LONGLORA_TORCH_PYTHON=" + python
                    + "; tools/setup.d/20-torch-reference.sh installs it)";
            if ("true".equals(System.getenv("CI"))) fail(why + "; CI=true requires it");
            assumeTrue(false, why);
        }
        return found.get();
    }
}
