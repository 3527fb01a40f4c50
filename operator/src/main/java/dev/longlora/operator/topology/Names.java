package dev.longlora.operator.topology;

/** Every object name derived from a job, in one place so the CEL length rule and the code agree. */
public final class Names {
    private Names() {}

    public static String pod(String job, int nodeIndex) {
        return job + "-node-" + nodeIndex;
    }

    /** The headless Service; also the pods' subdomain. */
    public static String service(String job) {
        return job;
    }

    public static String configMap(String job) {
        return job + "-config";
    }

    public static String checkpointClaim(String job) {
        return job + "-checkpoints";
    }

    /** ServiceAccount, Role and RoleBinding of the trainer pods share this name. */
    public static String trainerIdentity(String job) {
        return job + "-trainer";
    }

    /** DNS name of a pod through the headless Service (contract section 3). */
    public static String podDns(String job, String namespace, int nodeIndex) {
        return pod(job, nodeIndex) + "." + service(job) + "." + namespace + ".svc";
    }
}
