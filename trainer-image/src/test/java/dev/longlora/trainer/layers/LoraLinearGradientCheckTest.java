package dev.longlora.trainer.layers;

import static dev.longlora.trainer.backend.FiniteDifference.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.FiniteDifference;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.ParameterStore;
import dev.longlora.trainer.parameter.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The LoRA linear layer alone: y = x W^T + (alpha/r) (drop(x) A^T) B^T, its input and weight gradients. */
class LoraLinearGradientCheckTest {
    private static final Backend BE = new CpuBackend(2);
    private static final int T = 7;
    private static final int IN = 10;
    private static final int OUT = 6;
    private static final int R = 3;
    private static final float SCALING = 2f;

    @AfterAll
    static void close() {
        BE.close();
    }

    @Test
    void gradientsOfInputWeightAndAdapterWithoutDropout() {
        check(0f);
    }

    @Test
    void gradientsWithDropoutUseTheForwardMask() {
        check(0.3f);
    }

    @Test
    void zeroBMeansTheBaseLayerExactly() {
        ParameterStore store = ParameterStore.create(BE);
        Parameter w = store.add("w", new int[] {OUT, IN}, false);
        Parameter a = store.add("a", new int[] {R, IN}, true);
        Parameter b = store.add("b", new int[] {OUT, R}, true);
        store.setValues("w", random(OUT * IN, 0, 1, 1));
        store.setValues("a", random(R * IN, 0, 1, 2));
        LoraLinear withAdapter = new LoraLinear(w, a, b, SCALING, 0f);
        LoraLinear plain = new LoraLinear(w, null, null, SCALING, 0f);
        Tensor x = tensor(random(T * IN, 0, 1, 3), T, IN);
        Tensor y1 = BE.allocate(T, OUT);
        Tensor y2 = BE.allocate(T, OUT);
        withAdapter.forward(BE, y1, x, new LoraLinear.Acts(BE, withAdapter, T), 0);
        plain.forward(BE, y2, x, new LoraLinear.Acts(BE, plain, T), 0);
        assertArrayEquals(BE.download(y2), BE.download(y1), 0f);
    }

    private static void check(float dropout) {
        // inputs: x, W, A, B; W trainable too, so every gradient path is checked.
        float[][] inputs = {
            random(T * IN, 0, 1, 4), random(OUT * IN, 0, 0.5, 5), random(R * IN, 0, 0.5, 6), random(OUT * R, 0, 0.5, 7)
        };
        long seed = 1234;
        FiniteDifference.check(
                "lora linear dropout " + dropout,
                inputs,
                in -> {
                    Layer l = new Layer(in, dropout);
                    Tensor y = BE.allocate(T, OUT);
                    l.linear.forward(BE, y, l.x, new LoraLinear.Acts(BE, l.linear, T), seed);
                    return BE.download(y);
                },
                (in, dOut) -> {
                    Layer l = new Layer(in, dropout);
                    LoraLinear.Acts acts = new LoraLinear.Acts(BE, l.linear, T);
                    l.linear.forward(BE, BE.allocate(T, OUT), l.x, acts, seed);
                    Tensor dx = BE.allocate(T, IN);
                    l.linear.backward(
                            BE, tensor(dOut, T, OUT), l.x, dx, acts, seed, BE.allocate(T, R), BE.allocate(T, IN));
                    return new float[][] {
                        BE.download(dx), BE.download(l.w.grad()), BE.download(l.a.grad()), BE.download(l.b.grad())
                    };
                },
                1e-2,
                2e-3);
    }

    private static Tensor tensor(float[] data, int... shape) {
        Tensor t = BE.allocate(shape);
        BE.upload(t, data);
        return t;
    }

    /** A layer whose weights are the given inputs. */
    private static final class Layer {
        final Tensor x;
        final Parameter w;
        final Parameter a;
        final Parameter b;
        final LoraLinear linear;

        Layer(float[][] in, float dropout) {
            ParameterStore store = ParameterStore.create(BE);
            w = store.add("w", new int[] {OUT, IN}, true);
            a = store.add("a", new int[] {R, IN}, true);
            b = store.add("b", new int[] {OUT, R}, true);
            store.setValues("w", in[1]);
            store.setValues("a", in[2]);
            store.setValues("b", in[3]);
            x = tensor(in[0], T, IN);
            linear = new LoraLinear(w, a, b, SCALING, dropout);
        }
    }
}
