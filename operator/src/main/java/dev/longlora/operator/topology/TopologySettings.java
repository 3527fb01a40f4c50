package dev.longlora.operator.topology;

/**
 * What the operator's configuration adds to every job: the trainer image used when spec.image is unset, and its
 * pull policy.
 */
public record TopologySettings(String defaultImage, String defaultPullPolicy) {
    public TopologySettings {
        if (defaultImage == null || defaultImage.isBlank()) {
            throw new IllegalArgumentException("longlora.trainer.image must name the default trainer image");
        }
    }
}
