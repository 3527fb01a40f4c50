package dev.longlora.trainer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.longlora.contract.NodeUnfitException;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** Backend choice by flag, and the errors a user sees for a wrong choice; no GPU needed. */
class BackendSelectorTest {

    @Test
    void cpuIsChosenByName() {
        try (Backend b = BackendSelector.open("CPU", 1)) {
            assertInstanceOf(CpuBackend.class, b);
        }
    }

    @Test
    void anUnknownBackendNamesTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackendSelector.open("tpu", 1));
        assertTrue(e.getMessage().contains("cpu or cuda"), e.getMessage());
    }

    @Test
    void cudaWithoutAGpuFailsWithTheReasonAndTheWayOut() {
        var why = CudaAvailability.unavailable();
        assumeTrue(why.isPresent(), "this machine can run CUDA, so there is no failure to check");
        // No driver or GPU is the node's fault (exit 12, retried on another node); kernels missing from the build
        // are a bug of ours (exit 1), never blamed on the node.
        RuntimeException e = assertThrows(RuntimeException.class, () -> BackendSelector.open("cuda", 1));
        assertEquals(
                why.get().nodeFault() ? NodeUnfitException.class : IllegalStateException.class,
                e.getClass(),
                why.get().reason());
        assertTrue(e.getMessage().contains(why.get().reason()), e.getMessage());
        assertTrue(e.getMessage().contains("--backend cpu"), e.getMessage());
    }

    @Test
    void poolSizesRoundToFewClasses() {
        assertEquals(512, DeviceMemoryPool.roundUp(1));
        assertEquals(1024, DeviceMemoryPool.roundUp(513));
        assertEquals(2L << 20, DeviceMemoryPool.roundUp((1L << 20) + 1));
        assertEquals(4L << 20, DeviceMemoryPool.roundUp((2L << 20) + 1));
    }
}
