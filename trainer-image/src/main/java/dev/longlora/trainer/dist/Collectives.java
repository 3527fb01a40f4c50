package dev.longlora.trainer.dist;

/**
 * The collectives seam: element-wise sums and copies of flat float buffers across the ranks of one gang. Every rank
 * calls the same operations in the same order with buffers of the same length. Shard r of an n-element buffer is
 * {@link Shard#of(int, int, int)}. Sums use one fixed order per world size (the ring order, see {@link
 * RingOrder}), so a run is reproducible for a given world size whatever the implementation. Each call gives up after
 * the gang's collective timeout: a dead or silent peer ends every call with a {@link LostPeerException}, never a
 * hang.
 */
public interface Collectives extends AutoCloseable {

    int rank();

    int worldSize();

    /** Every rank's buffer becomes the element-wise sum of all ranks' buffers. */
    void allReduce(float[] buffer);

    /** This rank's shard of its buffer becomes the sum of all ranks' shards; the rest of the buffer is undefined. */
    default void reduceScatter(float[] buffer) {
        reduceScatter(buffer, Shard.bounds(buffer.length, worldSize()));
    }

    /**
     * As {@link #reduceScatter(float[])} with uneven parts: rank r's part is [bounds[r], bounds[r + 1]) (world + 1
     * non-decreasing offsets from 0 to the length; parts may be empty). Part r's sum is added in the same order as
     * shard r's, so a bucket cut along a longer buffer's shard boundaries sums to the bits of that buffer's
     * reduce-scatter.
     */
    void reduceScatter(float[] buffer, int[] bounds);

    /** Each rank contributes its own shard; afterwards every buffer holds all shards. */
    void allGather(float[] buffer);

    /** Every rank's buffer becomes a copy of rank {@code root}'s. */
    void broadcast(float[] buffer, int root);

    /** Returns once every rank has called it. */
    void barrier();

    /**
     * Each rank's {@code values}, gathered in rank order ({@code [rank][i]}), in double precision: each double
     * travels as two floats (high and low part), enough for losses and squared norms to sum like one rank's.
     */
    default double[][] allGatherDoubles(double[] values) {
        int k = values.length;
        int world = worldSize();
        float[] buffer = new float[world * 2 * k];
        int base = rank() * 2 * k;
        for (int i = 0; i < k; i++) {
            float high = (float) values[i];
            buffer[base + 2 * i] = high;
            buffer[base + 2 * i + 1] = (float) (values[i] - high);
        }
        allGather(buffer);
        double[][] out = new double[world][k];
        for (int r = 0; r < world; r++) {
            for (int i = 0; i < k; i++) {
                out[r][i] = (double) buffer[r * 2 * k + 2 * i] + buffer[r * 2 * k + 2 * i + 1];
            }
        }
        return out;
    }

    /** The sum over ranks of each value, added in rank order (the same bits on every rank). */
    default double[] sumDoubles(double... values) {
        double[][] all = allGatherDoubles(values);
        double[] sum = new double[values.length];
        for (double[] perRank : all) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += perRank[i];
            }
        }
        return sum;
    }

    /** Leaves the gang; peers still calling collectives see this rank as lost. */
    @Override
    void close();
}
