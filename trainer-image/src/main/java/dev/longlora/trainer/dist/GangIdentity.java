package dev.longlora.trainer.dist;

/**
 * What a rank presents at the rendezvous: the job (namespace/name), the gang generation (LONGLORA_RESTART, the
 * job's restart count) and the world size it was started for.
 */
public record GangIdentity(String job, long generation, int worldSize) {

    /** Why rank 0 refuses {@code joining}, or null when it belongs to this gang. */
    String refusal(GangIdentity joining) {
        if (!job.equals(joining.job)) {
            return "it belongs to job " + joining.job + ", this rendezvous is job " + job
                    + " (MASTER_ADDR/MASTER_PORT point at another job's rank 0)";
        }
        if (generation != joining.generation) {
            return "it is from gang generation " + joining.generation + " (LONGLORA_RESTART), this gang is generation "
                    + generation + (joining.generation < generation ? ": a straggler from an old gang" : "");
        }
        if (worldSize != joining.worldSize) {
            return "it was started for WORLD_SIZE=" + joining.worldSize + ", rank 0 for " + worldSize
                    + ": the pods come from different versions of the job";
        }
        return null;
    }
}
