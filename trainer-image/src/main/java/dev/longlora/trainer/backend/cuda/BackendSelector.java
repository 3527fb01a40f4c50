package dev.longlora.trainer.backend.cuda;

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
        String name = flag;
        if (name == null || name.isBlank()) {
            name = System.getenv().getOrDefault(TrainerEnv.BACKEND, "cpu");
        }
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> new CpuBackend(cpuThreads);
            case "cuda", "gpu" -> CudaBackend.open(localDevice());
            default ->
                throw new IllegalArgumentException(
                        "unknown backend '" + name + "' (from --backend or LONGLORA_BACKEND): use cpu or cuda");
        };
    }

    private static int localDevice() {
        String rank = System.getenv("LOCAL_RANK");
        try {
            return rank == null || rank.isBlank() ? 0 : Integer.parseInt(rank.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LOCAL_RANK='" + rank + "' is not a GPU index");
        }
    }
}
