package dev.longlora.trainer.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

/**
 * Finite-difference checks of one op's backward: for J = sum(out * R) with a fixed random R, the directional
 * derivative of J along a random +-1 direction of each input (central differences) must equal the analytic
 * gradient's projection on it.
 */
public final class FiniteDifference {
    private FiniteDifference() {}

    /** The op's forward: inputs to output. */
    public interface Forward {
        float[] apply(float[][] inputs);
    }

    /** The op's backward: inputs and dOut to one gradient per input (null for an input it does not differentiate). */
    public interface Backward {
        float[][] apply(float[][] inputs, float[] dOut);
    }

    /** Checks every differentiated input; {@code what} names the op in failures. */
    public static void check(String what, float[][] inputs, Forward f, Backward b, double eps, double tolerance) {
        SplittableRandom rng = new SplittableRandom(what.hashCode());
        float[] out = f.apply(copy(inputs));
        float[] r = new float[out.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) rng.nextGaussian();
        }
        float[][] grads = b.apply(copy(inputs), r);
        for (int which = 0; which < inputs.length; which++) {
            if (grads[which] == null) {
                continue;
            }
            float[] u = new float[inputs[which].length];
            double predicted = 0;
            for (int i = 0; i < u.length; i++) {
                u[i] = rng.nextBoolean() ? 1f : -1f;
                predicted += (double) u[i] * grads[which][i];
            }
            double plus = objective(f, shifted(inputs, which, u, eps), r);
            double minus = objective(f, shifted(inputs, which, u, -eps), r);
            double numeric = (plus - minus) / (2 * eps);
            double scale = Math.max(1.0, Math.max(Math.abs(numeric), Math.abs(predicted)));
            assertTrue(
                    Math.abs(numeric - predicted) <= tolerance * scale,
                    what + " input " + which + ": finite difference " + numeric + " vs analytic " + predicted);
        }
    }

    private static double objective(Forward f, float[][] inputs, float[] r) {
        float[] out = f.apply(inputs);
        double j = 0;
        for (int i = 0; i < out.length; i++) {
            j += (double) out[i] * r[i];
        }
        return j;
    }

    private static float[][] shifted(float[][] inputs, int which, float[] u, double eps) {
        float[][] c = copy(inputs);
        for (int i = 0; i < u.length; i++) {
            c[which][i] = (float) (c[which][i] + eps * u[i]);
        }
        return c;
    }

    private static float[][] copy(float[][] x) {
        float[][] c = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            c[i] = x[i].clone();
        }
        return c;
    }

    /** Gaussian values with the given mean and spread. */
    public static float[] random(int n, double mean, double spread, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (mean + spread * rng.nextGaussian());
        }
        return x;
    }
}
