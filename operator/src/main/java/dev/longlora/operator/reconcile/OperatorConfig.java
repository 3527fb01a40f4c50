package dev.longlora.operator.reconcile;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The operator's own settings (application.properties or LONGLORA_* environment variables). */
@ConfigMapping(prefix = "longlora")
public interface OperatorConfig {
  Trainer trainer();

  /** Defaults of the trainer container when a job leaves them out. */
  interface Trainer {
    /** Trainer image used when spec.image is unset. */
    @WithDefault("longlora/trainer:0.1.0")
    String image();

    @WithDefault("IfNotPresent")
    String imagePullPolicy();
  }
}
