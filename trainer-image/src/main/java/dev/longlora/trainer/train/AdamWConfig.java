package dev.longlora.trainer.train;

/**
 * AdamW hyper-parameters (PyTorch's AdamW: decoupled weight decay, bias-corrected moments).
 *
 * @param beta1       first-moment decay (LongLoRA: 0.9)
 * @param beta2       second-moment decay (paper 0.95, scripts 0.999)
 * @param eps         denominator epsilon
 * @param weightDecay decoupled decay, applied to every trainable parameter (LongLoRA: 0)
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay) {

    /** LongLoRA paper defaults: betas (0.9, 0.95), eps 1e-8, no weight decay. */
    public static AdamWConfig longLora() {
        return new AdamWConfig(0.9, 0.95, 1e-8, 0.0);
    }

    /** Checks the ranges and returns this; the error names the field. */
    public AdamWConfig validate() {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("training.adamBeta1=" + beta1 + " must be in [0, 1)");
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("training.adamBeta2=" + beta2 + " must be in [0, 1)");
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("training.adamEpsilon=" + eps + " must be positive");
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("training.weightDecay=" + weightDecay + " must be >= 0");
        }
        return this;
    }
}
