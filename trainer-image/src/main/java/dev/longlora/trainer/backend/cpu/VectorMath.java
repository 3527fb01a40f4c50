package dev.longlora.trainer.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reproducible float math for the CPU backend. {@code lanewise(EXP)} and {@code reduceLanes(ADD)} of the Vector API
 * are not reproducible: the interpreter's fallback computes EXP per lane with scalar math while C2 calls a vector
 * math stub that rounds differently, and the order of a lane reduction is unspecified. Results then depend on when
 * the JIT compiles a method. Everything here is built only from operations IEEE 754 defines exactly (add, mul, fma,
 * min/max, integer and bit operations), so the interpreter, C1 and C2 give the same bits; the scalar forms perform
 * the very same operations as one vector lane, so an element gets the same value whether it falls in a vector body
 * or in a scalar tail (and so whatever the split of work between threads).
 */
final class VectorMath {
    // exp(x) = 2^n * e^r with n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2].
    private static final float LOG2E = 0x1.715476p+0f;
    private static final float LN2_HI = 0x1.62e430p-1f;
    private static final float LN2_LO = -0x1.05c610p-29f;
    /** 1.5 * 2^23: adding it rounds to an integer (ties to even) and leaves that integer in the low mantissa bits. */
    private static final float SHIFTER = 0x1.8p23f;

    private static final int SHIFTER_BITS = Float.floatToRawIntBits(SHIFTER);
    /** Beyond these exp overflows to +inf / underflows to 0 in float; clamping keeps n within [-150, 128]. */
    private static final float X_MAX = 89f;

    private static final float X_MIN = -104f;
    // Taylor coefficients 1/k!, k = 2..7: truncation error below 0.1 ulp on |r| <= ln2/2.
    private static final float C2 = 1f / 2;
    private static final float C3 = 1f / 6;
    private static final float C4 = 1f / 24;
    private static final float C5 = 1f / 120;
    private static final float C6 = 1f / 720;
    private static final float C7 = 1f / 5040;

    private VectorMath() {}

    /** e^x per lane; -inf gives 0, +inf gives +inf, NaN stays NaN; within about 1 ulp of the exact value. */
    static FloatVector exp(FloatVector x) {
        VectorSpecies<Float> s = x.species();
        FloatVector xc = x.max(X_MIN).min(X_MAX);
        FloatVector t = xc.fma(LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.fma(FloatVector.broadcast(s, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(s, -LN2_LO), r);
        FloatVector p = r.fma(C7, C6);
        p = p.fma(r, FloatVector.broadcast(s, C5));
        p = p.fma(r, FloatVector.broadcast(s, C4));
        p = p.fma(r, FloatVector.broadcast(s, C3));
        p = p.fma(r, FloatVector.broadcast(s, C2));
        FloatVector one = FloatVector.broadcast(s, 1f);
        p = p.fma(r, one);
        p = p.fma(r, one);
        // 2^n in two factors so that every n in [-150, 128] has two normal powers of two (gradual underflow stays
        // right).
        IntVector ni = ((IntVector) t.reinterpretAsInts()).sub(SHIFTER_BITS);
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
        IntVector n2 = ni.sub(n1);
        FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    /** e^x with exactly the operations of one lane of {@link #exp(FloatVector)}, so the same bits. */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, X_MIN), X_MAX);
        float t = Math.fma(xc, LOG2E, SHIFTER);
        float n = t - SHIFTER;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        int ni = Float.floatToRawIntBits(t) - SHIFTER_BITS;
        int n1 = ni >> 1;
        int n2 = ni - n1;
        float s1 = Float.intBitsToFloat((n1 + 127) << 23);
        float s2 = Float.intBitsToFloat((n2 + 127) << 23);
        return p * s1 * s2;
    }

    /** The logistic sigmoid 1 / (1 + e^-x), identical per lane to {@link #sigmoid(float)}. */
    static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(x.species(), 1f).div(exp(x.neg()).add(1f));
    }

    /** The logistic sigmoid 1 / (1 + e^-x). */
    static float sigmoid(float x) {
        return 1f / (exp(-x) + 1f);
    }

    /** The sum of the lanes, added strictly from lane 0 upwards (unlike {@code reduceLanes(ADD)}, whose order is free). */
    static float sumLanes(FloatVector v) {
        float[] lanes = new float[v.length()];
        v.intoArray(lanes, 0);
        float s = lanes[0];
        for (int i = 1; i < lanes.length; i++) {
            s += lanes[i];
        }
        return s;
    }
}
