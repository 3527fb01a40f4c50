package dev.longlora.trainer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuInit;

import java.util.Optional;
import jcuda.CudaException;
import jcuda.driver.JCudaDriver;

/**
 * Whether this machine can run the CUDA backend: a CUDA driver (libcuda.so.1), at least one device, and a kernels
 * jar that was compiled with nvcc. Without a driver JCuda's native library fails to link on first touch; that is
 * reported as a reason here, never thrown.
 */
public final class CudaAvailability {
    /** Why the backend cannot start; {@code nodeFault}: the machine lacks a GPU or driver (not a build problem). */
    record Unavailable(String reason, boolean nodeFault) {}

    private static volatile Optional<Unavailable> cached;

    private CudaAvailability() {}

    /** Empty when the CUDA backend can start, else why not (for skip messages and errors). */
    public static Optional<String> unavailableReason() {
        return unavailable().map(Unavailable::reason);
    }

    static Optional<Unavailable> unavailable() {
        Optional<Unavailable> r = cached;
        if (r == null) {
            r = probe();
            cached = r;
        }
        return r;
    }

    /** JCuda's link errors carry nested stack traces; the line naming the missing shared object says enough. */
    private static String rootCause(String message) {
        String[] lines = message.split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (lines[i].contains("cannot open shared object file")) {
                String line = lines[i].trim();
                int colon = line.indexOf(".so: ");
                return colon >= 0 ? line.substring(colon + 5) : line;
            }
        }
        return lines[0].trim();
    }

    private static Optional<Unavailable> probe() {
        KernelImages images;
        try {
            images = KernelImages.fromClasspath();
        } catch (RuntimeException e) {
            return Optional.of(new Unavailable(e.getMessage(), false));
        }
        if (!images.built()) {
            return Optional.of(new Unavailable(images.notBuiltReason(), false));
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                return node("the CUDA driver reports no GPU on this machine");
            }
            return Optional.empty();
        } catch (LinkageError e) {
            return node("no CUDA driver on this machine (JCuda's native library could not be loaded: "
                    + rootCause(String.valueOf(e.getMessage())) + ")");
        } catch (CudaException e) {
            return node("the CUDA driver failed to initialise: " + e.getMessage());
        }
    }

    /** GPUs the driver shows this process (call only after {@link #unavailable()} came back empty). */
    static int deviceCount() {
        int[] count = new int[1];
        cuDeviceGetCount(count);
        return count[0];
    }

    private static Optional<Unavailable> node(String reason) {
        return Optional.of(new Unavailable(reason, true));
    }
}
