package dev.longlora.operator.reconcile;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/**
 * The operator's own settings (application.properties, or environment variables such as
 * LONGLORA_TRAINER_IMAGE_CPU).
 */
@ConfigMapping(prefix = "longlora")
public interface OperatorConfig {
    Trainer trainer();

    Operator operator();

    /** Defaults of the trainer container when a job leaves them out. */
    interface Trainer {
        /** Trainer images used when spec.image is unset, picked by spec.distributed.gpusPerNode. */
        Image image();

        @WithDefault("IfNotPresent")
        String imagePullPolicy();
    }

    /** The trainer images (application.properties sets both to the operator's own version). */
    interface Image {
        /** For jobs with gpusPerNode 0: the CPU backend only (LONGLORA_TRAINER_IMAGE_CPU). */
        String cpu();

        /** For jobs with GPUs: CUDA backend, cuBLAS and NCCL (LONGLORA_TRAINER_IMAGE_CUDA). */
        String cuda();
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
