package dev.longlora.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.parameter.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Recomputing each layer in backward gives the same loss and gradients as keeping every activation, in less memory. */
class GradientCheckpointingTest {

    @Test
    void sameGradientsLessMemory() {
        LlamaConfig config = new LlamaConfig(50, 32, 48, 4, 4, 2, 1e-5, 10000.0, 64, 2.0, false);
        Map<String, float[]> grads = new LinkedHashMap<>();
        long[] peak = new long[2];
        double[] loss = new double[2];
        int run = 0;
        for (boolean ckpt : new boolean[] {false, true}) {
            try (CpuBackend be = new CpuBackend(2);
                    LlamaModel model = new LlamaModel(config, TinyModels.loraEverywhere(0.2), be, 3)) {
                TinyModels.randomize(model, 4);
                model.setGradientCheckpointing(ckpt);
                int[] tokens = TinyModels.tokens(64, config.vocabSize(), 5);
                long before = be.bytesInUse();
                be.resetPeakBytes();
                loss[run] = model.forwardBackward(tokens, tokens, AttentionSpec.s2(4));
                peak[run] = be.peakBytes() - before;
                for (Parameter p : model.parameters().trainable()) {
                    float[] g = model.parameters().grads(p.name());
                    if (ckpt) {
                        assertArrayEquals(grads.get(p.name()), g, 0f, p.name());
                    } else {
                        grads.put(p.name(), g);
                    }
                }
            }
            run++;
        }
        assertEquals(loss[0], loss[1], 0.0);
        assertTrue(
                peak[1] < peak[0] * 0.6, "activation memory with checkpointing " + peak[1] + " vs without " + peak[0]);
    }
}
