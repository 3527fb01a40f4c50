package dev.longlora.trainer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.TinyModels;
import dev.longlora.trainer.parameter.Parameter;
import org.junit.jupiter.api.Test;

/**
 * A whole LongLoRA forward and backward pass (S2-Attn, GQA, LoRA on q/k/v/o, trainable embedding and norms) on
 * the GPU against the CPU reference: the same loss (relative 1e-2) and the same gradient for every trainable parameter
 * (relative L2 2e-2: two layers of bf16 attention compound the per-kernel 1e-2 bound). Skipped, with the reason,
 * where CUDA cannot run.
 */
class CudaTrainingStepTest {

    @Test
    void longLoraStepOnTheGpuMatchesTheCpuReference() {
        // Head dimension 64 (bf16 tensor-core attention), 4 query heads over 2 KV heads.
        LlamaConfig config = new LlamaConfig(97, 256, 344, 2, 4, 2, 1e-5, 10000.0, 64, 4.0, false);
        compareStep(config, 256, 1e-2, 2e-2);
    }

    @Test
    void tinyModelStepUsesTheGenericAttentionAndMatchesInFp32() {
        // Head dimension 4 (generic fp32 attention): everything is fp32, so the fp32 bound applies.
        compareStep(TinyModels.gqaConfig(4.0), 64, 1e-4, 1e-4);
    }

    private static void compareStep(LlamaConfig config, int seq, double lossBound, double gradBound) {
        var reason = CudaAvailability.unavailableReason();
        assumeTrue(reason.isEmpty(), () -> "CUDA training-step test skipped: " + reason.orElse(""));
        int[] tokens = TinyModels.tokens(seq, config.vocabSize(), 5);
        int[] labels = tokens.clone();
        labels[10] = LlamaModel.IGNORE_INDEX;
        AttentionSpec s2 = AttentionSpec.s2(4);
        try (CpuBackend cpu = new CpuBackend(2);
                CudaBackend gpu = CudaBackend.open(0);
                LlamaModel ref = new LlamaModel(config, LoraConfig.longLora(), cpu, 11);
                LlamaModel dut = new LlamaModel(config, LoraConfig.longLora(), gpu, 11)) {
            TinyModels.randomize(ref, 3);
            TinyModels.randomize(dut, 3);
            double lossRef = ref.forwardBackward(tokens, labels, s2);
            double loss = dut.forwardBackward(tokens, labels, s2);
            assertEquals(lossRef, loss, lossBound * Math.abs(lossRef), "loss");
            int compared = 0;
            for (Parameter p : ref.parameters().trainable()) {
                float[] want = ref.parameters().grads(p.name());
                float[] got = dut.parameters().grads(p.name());
                double num = 0;
                double den = 0;
                for (int i = 0; i < want.length; i++) {
                    assertTrue(Float.isFinite(got[i]), p.name() + " gradient has a non-finite value at " + i);
                    num += (got[i] - want[i]) * (double) (got[i] - want[i]);
                    den += (double) want[i] * want[i];
                }
                double err = Math.sqrt(num / Math.max(den, 1e-30));
                assertTrue(err < gradBound, p.name() + ": relative L2 error of the gradient " + err);
                compared++;
            }
            assertTrue(compared > 4, "LoRA, embedding and norm gradients compared");
        }
    }
}
