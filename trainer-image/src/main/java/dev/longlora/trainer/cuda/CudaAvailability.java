package dev.longlora.trainer.cuda;

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
  private static volatile Optional<String> cached;

  private CudaAvailability() {}

  /** Empty when the CUDA backend can start, else why not (for skip messages and errors). */
  public static Optional<String> unavailableReason() {
    Optional<String> r = cached;
    if (r == null) {
      r = probe();
      cached = r;
    }
    return r;
  }

  private static Optional<String> probe() {
    KernelImages images;
    try {
      images = KernelImages.fromClasspath();
    } catch (RuntimeException e) {
      return Optional.of(e.getMessage());
    }
    if (!images.built()) {
      return Optional.of(images.notBuiltReason());
    }
    try {
      JCudaDriver.setExceptionsEnabled(true);
      cuInit(0);
      int[] count = new int[1];
      cuDeviceGetCount(count);
      if (count[0] == 0) {
        return Optional.of("the CUDA driver reports no GPU on this machine");
      }
      return Optional.empty();
    } catch (LinkageError e) {
      return Optional.of("no CUDA driver on this machine (JCuda could not load libcuda.so.1: " + e.getMessage() + ")");
    } catch (CudaException e) {
      return Optional.of("the CUDA driver failed to initialise: " + e.getMessage());
    }
  }
}
