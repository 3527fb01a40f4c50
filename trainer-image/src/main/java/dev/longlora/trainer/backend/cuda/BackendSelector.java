package dev.longlora.trainer.backend.cuda;

import dev.longlora.contract.NodeUnfitException;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import java.util.Locale;

/**
 * Chooses the compute backend from a flag value or, when the flag is absent, the LONGLORA_BACKEND environment
 * variable: {@code cpu} (the default, the reference) or {@code cuda} (GPU {@code LOCAL_RANK}, else 0).
 */
public final class BackendSelector {
    private BackendSelector() {}

    /** The backend named by {@code flag} (null or blank: $LONGLORA_BACKEND, else cpu). */
    public static Backend open(String flag, int cpuThreads) {
        return open(flag, cpuThreads, -1);
    }

    /**
     * As {@link #open(String, int)} for local rank {@code localIndex} of this JVM: on CUDA its own GPU (the pod sees
     * its GPUS_PER_NODE devices as 0..n-1); below 0, GPU $LOCAL_RANK, else 0.
     */
    public static Backend open(String flag, int cpuThreads, int localIndex) {
        String name = flag;
        if (name == null || name.isBlank()) {
            name = System.getenv().getOrDefault(TrainerEnv.BACKEND, "cpu");
        }
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> new CpuBackend(cpuThreads);
            case "cuda", "gpu" -> CudaBackend.open(localIndex >= 0 ? localIndex : localDevice());
            default ->
                throw new IllegalArgumentException(
                        "unknown backend '" + name + "' (from --backend or LONGLORA_BACKEND): use cpu or cuda");
        };
    }

    /**
     * Fails before any rank starts when a multi-rank job cannot run on this node: more than one CUDA rank needs NCCL
     * (exit 12 without it, naming where it looked). CPU ranks need nothing beyond the JVM.
     */
    public static void requireMultiRankSupport(String flag, int worldSize) {
        String name = flag == null || flag.isBlank() ? System.getenv().getOrDefault(TrainerEnv.BACKEND, "cpu") : flag;
        if (worldSize > 1 && !name.trim().toLowerCase(Locale.ROOT).equals("cpu")) {
            Nccl nccl = Nccl.load();
            if (nccl.version() < MIN_NCCL_VERSION) {
                throw new NodeUnfitException("NCCL " + Nccl.versionString(nccl.version()) + " at " + nccl.library
                        + " is older than " + Nccl.versionString(MIN_NCCL_VERSION)
                        + ", the oldest the trainer supports; set " + Nccl.LIBRARY_ENV + " to a newer libnccl.so.2");
            }
        }
    }

    /** ncclCommGetAsyncError's non-blocking semantics and ncclCommAbort as used here date from NCCL 2.18. */
    static final int MIN_NCCL_VERSION = 21800;

    private static int localDevice() {
        String rank = System.getenv("LOCAL_RANK");
        try {
            return rank == null || rank.isBlank() ? 0 : Integer.parseInt(rank.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LOCAL_RANK='" + rank + "' is not a GPU index");
        }
    }
}
