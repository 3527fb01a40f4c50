package dev.longlora.trainer.train;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.parameter.Parameter;
import java.util.List;

/** Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_. */
public final class GradientClipping {
    private GradientClipping() {}

    /** The L2 norm of all gradients together. */
    public static double globalNorm(Backend backend, List<Parameter> params) {
        double sum = 0;
        for (Parameter p : params) {
            sum += backend.sumOfSquares(p.grad());
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales all gradients by maxNorm / (norm + 1e-6) when their global norm exceeds {@code maxNorm} (no clipping when
     * maxNorm <= 0). Returns the norm before clipping.
     */
    public static double clip(Backend backend, List<Parameter> params, double maxNorm) {
        double norm = globalNorm(backend, params);
        if (maxNorm > 0 && norm > maxNorm) {
            float factor = (float) (maxNorm / (norm + 1e-6));
            for (Parameter p : params) {
                backend.scale(p.grad(), factor);
            }
        }
        return norm;
    }
}
