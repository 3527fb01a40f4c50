package dev.longlora.operator.reconcile;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** The operator's own settings (application.properties, or environment variables such as LONGLORA_TRAINER_IMAGE). */
@ConfigMapping(prefix = "longlora")
public interface OperatorConfig {
    Trainer trainer();

    Operator operator();

    /** Defaults of the trainer container when a job leaves them out. */
    interface Trainer {
        /** Trainer image used when spec.image is unset. */
        @WithDefault("longlora/trainer:0.1.0")
        String image();

        @WithDefault("IfNotPresent")
        String imagePullPolicy();
    }

    /** How the operator itself runs. */
    interface Operator {
        LeaderElection leaderElection();
    }

    /** One active replica at a time, through a Lease. */
    interface LeaderElection {
        /** false: no Lease, every replica reconciles (only for a single replica, tests and benchmarks). */
        @WithDefault("true")
        boolean enabled();

        @WithDefault("longlora-operator-leader")
        String leaseName();

        /** Namespace of the Lease; the operator's own namespace when unset (in a cluster). */
        Optional<String> namespace();
    }
}
