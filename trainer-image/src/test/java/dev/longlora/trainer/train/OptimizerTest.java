package dev.longlora.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.TinyModels;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AdamW, schedules and clipping against their closed forms. */
class OptimizerTest {

    @Test
    void adamwMatchesPyTorchFormulaOverSeveralSteps() {
        try (CpuBackend be = new CpuBackend(1)) {
            Tensor p = be.allocate(3);
            Tensor g = be.allocate(3);
            Tensor m = be.allocate(3);
            Tensor v = be.allocate(3);
            be.upload(p, new float[] {1f, -2f, 0.5f});
            double[] pd = {1, -2, 0.5};
            double[] md = new double[3];
            double[] vd = new double[3];
            double lr = 0.1, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
            for (int step = 1; step <= 4; step++) {
                float[] grad = {0.3f * step, -0.1f, 2f / step};
                be.upload(g, grad);
                be.adamwUpdate(p, g, m, v, (float) lr, (float) b1, (float) b2, (float) eps, (float) wd, step);
                for (int i = 0; i < 3; i++) {
                    pd[i] -= lr * wd * pd[i];
                    md[i] = b1 * md[i] + (1 - b1) * grad[i];
                    vd[i] = b2 * vd[i] + (1 - b2) * grad[i] * grad[i];
                    double mh = md[i] / (1 - Math.pow(b1, step));
                    double vh = vd[i] / (1 - Math.pow(b2, step));
                    pd[i] -= lr * mh / (Math.sqrt(vh) + eps);
                }
            }
            float[] got = be.download(p);
            for (int i = 0; i < 3; i++) {
                assertEquals(pd[i], got[i], 1e-5, "element " + i);
            }
        }
    }

    @Test
    void schedulesFollowWarmupThenConstantOrCosine() {
        LrSchedule c = LrSchedule.constantWithWarmup(1e-3, 4);
        assertEquals(0.0, c.at(0));
        assertEquals(5e-4, c.at(2), 1e-12);
        assertEquals(1e-3, c.at(4), 1e-12);
        assertEquals(1e-3, c.at(1000), 1e-12);
        LrSchedule cos = LrSchedule.cosine(1e-3, 2, 12);
        assertEquals(5e-4, cos.at(1), 1e-12);
        assertEquals(1e-3, cos.at(2), 1e-12);
        assertEquals(5e-4, cos.at(7), 1e-12);
        assertEquals(0.0, cos.at(12), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("linear_decay", 1e-3, 0, 10));
    }

    @Test
    void clippingScalesTheGlobalNormDownToTheLimit() {
        try (CpuBackend be = new CpuBackend(1);
                LlamaModel model = new LlamaModel(TinyModels.gqaConfig(1.0), LoraConfig.longLora(), be, 3)) {
            TinyModels.randomize(model, 4);
            int[] tokens = TinyModels.tokens(16, 23, 5);
            model.forwardBackward(tokens, tokens, AttentionSpec.full());
            var params = model.parameters().trainable();
            double before = GradientClipping.globalNorm(be, params);
            double reported = GradientClipping.clip(be, params, before / 4);
            assertEquals(before, reported, 1e-9);
            assertEquals(before / 4, GradientClipping.globalNorm(be, params), before * 1e-5);
        }
    }

    @Test
    void gradientAccumulationAveragesMicroBatches() {
        try (CpuBackend be = new CpuBackend(1);
                LlamaModel model = new LlamaModel(TinyModels.gqaConfig(1.0), LoraConfig.longLora(), be, 3)) {
            TinyModels.randomize(model, 4);
            int[] a = TinyModels.tokens(16, 23, 5);
            int[] b = TinyModels.tokens(16, 23, 6);
            String name = "model.norm.weight";
            model.zeroGrads();
            model.forwardBackward(a, a, AttentionSpec.full());
            float[] ga = model.parameters().grads(name);
            model.zeroGrads();
            model.forwardBackward(b, b, AttentionSpec.full());
            float[] gb = model.parameters().grads(name);
            model.zeroGrads();
            model.forwardBackward(a, a, AttentionSpec.full(), 0.5f);
            model.forwardBackward(b, b, AttentionSpec.full(), 0.5f);
            float[] avg = model.parameters().grads(name);
            for (int i = 0; i < avg.length; i++) {
                assertEquals((ga[i] + gb[i]) / 2, avg[i], 1e-6);
            }
            assertThrows(
                    IllegalArgumentException.class,
                    () -> new Trainer(model, AdamWConfig.longLora(), LrSchedule.constantWithWarmup(1, 0), 1)
                            .step(List.of(), AttentionSpec.full()));
        }
    }
}
