package dev.longlora.trainer.checkpoint;

/**
 * One rank's part of a ZeRO-partitioned AdamW state: the moments of elements [start, end) of the flat trainable
 * buffer (the parameters end to end in model order), and the step count all ranks share.
 */
public record OptimizerShard(int rank, int start, int end, float[] m, float[] v, long step) {
    public OptimizerShard {
        if (m.length != end - start || v.length != end - start) {
            throw new IllegalArgumentException("shard [" + start + ", " + end + ") of rank " + rank + " holds "
                    + m.length + "/" + v.length + " values");
        }
    }
}
