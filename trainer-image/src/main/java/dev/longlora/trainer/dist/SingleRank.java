package dev.longlora.trainer.dist;

/** A gang of one: every collective leaves the buffer as it is. */
public final class SingleRank implements Collectives {

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public void allReduce(float[] buffer) {}

    @Override
    public void reduceScatter(float[] buffer, int[] bounds) {
        Shard.requireBounds(bounds, buffer.length, 1);
    }

    @Override
    public void allGather(float[] buffer) {}

    @Override
    public void broadcast(float[] buffer, int root) {
        if (root != 0) throw new IllegalArgumentException("root " + root + " in a gang of one");
    }

    @Override
    public void barrier() {}

    @Override
    public void close() {}
}
