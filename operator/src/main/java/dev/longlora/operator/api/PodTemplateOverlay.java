package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.List;
import java.util.Map;

/**
 * What a cluster adds to every trainer pod: merged over the operator's pod, the operator's own wiring (rank env,
 * /etc/longlora, /checkpoints, /dev/shm) wins on a name clash.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PodTemplateOverlay(
        @JsonPropertyDescription("Extra pod labels.") Map<String, String> labels,

        @JsonPropertyDescription("Extra pod annotations, e.g. for a network attachment.")
        Map<String, String> annotations,

        @JsonPropertyDescription("Extra environment of the trainer container, e.g. NCCL settings.")
        List<EnvVar> env,

        @JsonPropertyDescription("Extra environment sources of the trainer container.")
        List<EnvFromSource> envFrom,

        @JsonPropertyDescription("Extra volumes, e.g. the model and data.")
        List<Volume> volumes,

        @JsonPropertyDescription("Mounts of extra volumes into the trainer container.")
        List<VolumeMount> volumeMounts,

        @JsonPropertyDescription("Pull secrets of the trainer image.")
        List<LocalObjectReference> imagePullSecrets,

        @JsonPropertyDescription("Pod security context; restricted-profile defaults when unset.")
        PodSecurityContext securityContext,

        @JsonPropertyDescription("Trainer container security context; restricted-profile defaults when unset.")
        SecurityContext containerSecurityContext,

        @JsonPropertyDescription("Extra resources requested and limited per pod, e.g. rdma/hca_shared_devices_a: 1.")
        Map<String, Quantity> extraResources,

        @JsonPropertyDescription("Size limit of the memory-backed /dev/shm; NCCL needs it; 16Gi when unset.")
        Quantity shmSize,

        @JsonPropertyDescription(
                "Run the trainer pods in the node's network namespace, for NCCL over the node's own NICs where no"
                        + " secondary pod network exists. The rendezvous port becomes a host port (one such pod per"
                        + " node and port) and the namespace must admit the privileged Pod Security level; see"
                        + " docs/operations.md.")
        Boolean hostNetwork) {

    /** An overlay without host networking. */
    public PodTemplateOverlay(
            Map<String, String> labels,
            Map<String, String> annotations,
            List<EnvVar> env,
            List<EnvFromSource> envFrom,
            List<Volume> volumes,
            List<VolumeMount> volumeMounts,
            List<LocalObjectReference> imagePullSecrets,
            PodSecurityContext securityContext,
            SecurityContext containerSecurityContext,
            Map<String, Quantity> extraResources,
            Quantity shmSize) {
        this(
                labels,
                annotations,
                env,
                envFrom,
                volumes,
                volumeMounts,
                imagePullSecrets,
                securityContext,
                containerSecurityContext,
                extraResources,
                shmSize,
                null);
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean usesHostNetwork() {
        return Boolean.TRUE.equals(hostNetwork);
    }
}
