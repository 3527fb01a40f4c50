package dev.longlora.trainer.backend;

/**
 * A dense row-major fp32 array owned by a {@link Backend} (host memory on the CPU, device memory on a GPU).
 * Java code never reads it directly: use {@link Backend#download} and {@link Backend#upload} at the edges.
 *
 * <p>Ops treat a tensor of shape [d0, ..., dn] as a matrix of {@link #rows()} = d0*...*d(n-1) rows and
 * {@link #cols()} = dn columns.
 */
public interface Tensor extends AutoCloseable {

    /** The shape, outermost first (a copy). */
    int[] shape();

    /** Number of elements. */
    long numel();

    /** Product of all but the last dimension (1 for a vector). */
    default int rows() {
        int[] s = shape();
        long r = 1;
        for (int i = 0; i < s.length - 1; i++) {
            r *= s[i];
        }
        return Math.toIntExact(r);
    }

    /** The last dimension. */
    default int cols() {
        int[] s = shape();
        return s[s.length - 1];
    }

    /** Frees the storage (device memory on a GPU); the tensor must not be used afterwards. */
    @Override
    void close();
}
