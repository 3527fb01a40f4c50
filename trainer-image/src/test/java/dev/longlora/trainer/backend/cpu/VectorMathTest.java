package dev.longlora.trainer.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The reproducible exp and lane sum: accuracy against StrictMath, edge cases, and vector == scalar bit for bit. */
class VectorMathTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** |got - exact| in units of the last place of the float nearest the exact value (subnormal ulps near 0). */
    private static double ulps(float got, double exact) {
        float nearest = (float) exact;
        if (Float.isInfinite(nearest)) {
            return got == nearest ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(got - exact) / Math.ulp(nearest == 0f ? Float.MIN_VALUE : nearest);
    }

    private static float[] vectorExp(float[] xs) {
        float[] out = new float[xs.length];
        for (int i = 0; i < xs.length; i += S.length()) {
            VectorMath.exp(FloatVector.fromArray(S, xs, i, S.indexInRange(i, xs.length)))
                    .intoArray(out, i, S.indexInRange(i, xs.length));
        }
        return out;
    }

    @Test
    void expIsWithinOneUlpOverTheWholeFloatRangeAndVectorEqualsScalar() {
        SplittableRandom rng = new SplittableRandom(3);
        float[] xs = new float[200_000];
        for (int i = 0; i < xs.length; i++) {
            // Mostly the interesting range [-110, 95] (underflow to overflow), some tiny and some huge magnitudes.
            xs[i] = switch (i % 4) {
                case 0, 1 -> (float) (rng.nextDouble() * 205 - 110);
                case 2 -> (float) (rng.nextDouble() * 2 - 1);
                default -> (float) ((rng.nextBoolean() ? 1 : -1) * Math.pow(10, rng.nextDouble() * 76 - 38));
            };
        }
        float[] vec = vectorExp(xs);
        double worst = 0;
        for (int i = 0; i < xs.length; i++) {
            float scalar = VectorMath.exp(xs[i]);
            assertEquals(
                    Float.floatToRawIntBits(scalar),
                    Float.floatToRawIntBits(vec[i]),
                    "vector lane vs scalar at " + xs[i]);
            double err = ulps(scalar, StrictMath.exp(xs[i]));
            assertTrue(err <= 1.0, "exp(" + xs[i] + ") = " + scalar + " is " + err + " ulp off");
            worst = Math.max(worst, err);
        }
        assertTrue(worst > 0.3, "the check compares real values (worst " + worst + " ulp)");
    }

    @Test
    void expEdgeCases() {
        float[] xs = {
            Float.NEGATIVE_INFINITY,
            Float.POSITIVE_INFINITY,
            Float.NaN,
            0f,
            -0f,
            1f,
            -1f,
            88.72f,
            88.73f,
            -87.33f,
            -100f,
            -103.9f,
            -104f,
            -1e30f,
            1e30f,
            Float.MIN_VALUE,
            -Float.MAX_VALUE,
            Float.MAX_VALUE
        };
        float[] vec = vectorExp(xs);
        for (int i = 0; i < xs.length; i++) {
            float expected = (float) StrictMath.exp(xs[i]);
            float scalar = VectorMath.exp(xs[i]);
            assertEquals(
                    Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(vec[i]), "vector vs scalar at " + xs[i]);
            if (Float.isNaN(expected) || Float.isInfinite(expected) || expected == 0f || expected == 1f) {
                assertEquals(expected, scalar, "exp(" + xs[i] + ")");
            } else {
                assertTrue(ulps(scalar, StrictMath.exp(xs[i])) <= 1.0, "exp(" + xs[i] + ") = " + scalar);
            }
        }
    }

    @Test
    void sigmoidMatchesDefinitionAndSaturates() {
        for (float x = -30f; x <= 30f; x += 0.37f) {
            double exact = 1.0 / (1.0 + StrictMath.exp(-x));
            assertEquals(exact, VectorMath.sigmoid(x), 2e-7 * exact, "sigmoid(" + x + ")");
            float lane = VectorMath.sigmoid(FloatVector.broadcast(S, x)).lane(0);
            assertEquals(Float.floatToRawIntBits(VectorMath.sigmoid(x)), Float.floatToRawIntBits(lane), "lane at " + x);
        }
        assertEquals(0f, VectorMath.sigmoid(-200f));
        assertEquals(1f, VectorMath.sigmoid(200f));
    }

    @Test
    void sumLanesAddsFromLaneZeroUpwards() {
        float[] lanes = new float[S.length()];
        // 1 + 2^-24 + 2^-24 + ... rounds back to 1 at each step from lane 0 up; any other order could differ.
        lanes[0] = 1f;
        for (int i = 1; i < lanes.length; i++) {
            lanes[i] = 0x1p-24f;
        }
        assertEquals(1f, VectorMath.sumLanes(FloatVector.fromArray(S, lanes, 0)));
        float expected = 0f;
        SplittableRandom rng = new SplittableRandom(9);
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = (float) rng.nextGaussian();
            expected += lanes[i];
        }
        assertEquals(expected, VectorMath.sumLanes(FloatVector.fromArray(S, lanes, 0)));
    }
}
