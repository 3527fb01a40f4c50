package dev.longlora.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.model.TinyModels;
import dev.longlora.trainer.parameter.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Training 2N steps straight equals N steps, export of all state, import into a fresh model, N more steps. */
class ResumeEquivalenceTest {
    private static final int N = 3;
    private static final LlamaConfig CONFIG = TinyModels.gqaConfig(2.0);
    private static final LoraConfig LORA = LoraConfig.longLora().withRank(4, 8).withDropout(0.1);
    private static final AttentionSpec S2 = AttentionSpec.s2(4);

    private static Trainer trainer(LlamaModel model) {
        return new Trainer(model, new AdamWConfig(0.9, 0.95, 1e-8, 0.01), LrSchedule.cosine(3e-2, 2, 2 * N), 1.0);
    }

    private static List<Trainer.Sample> batch(int step) {
        List<Trainer.Sample> micro = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            micro.add(Trainer.Sample.of(TinyModels.tokens(16, CONFIG.vocabSize(), 100L * step + i)));
        }
        return micro;
    }

    private static Map<String, float[]> trainable(LlamaModel model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Parameter p : model.parameters().trainable()) {
            out.put(p.name(), model.parameters().values(p.name()));
        }
        return out;
    }

    @Test
    void resumedTrainingMatchesStraightTrainingBitForBit() {
        Map<String, float[]> straight;
        try (CpuBackend be = new CpuBackend(2);
                LlamaModel model = new LlamaModel(CONFIG, LORA, be, 7);
                Trainer t = trainer(model)) {
            for (int s = 0; s < 2 * N; s++) {
                t.step(batch(s), S2);
            }
            straight = trainable(model);
        }

        Map<String, float[]> saved;
        Map<String, AdamW.ParamState> savedOptimizer;
        long savedStep;
        long savedDropout;
        try (CpuBackend be = new CpuBackend(2);
                LlamaModel model = new LlamaModel(CONFIG, LORA, be, 7);
                Trainer t = trainer(model)) {
            for (int s = 0; s < N; s++) {
                t.step(batch(s), S2);
            }
            saved = trainable(model);
            savedOptimizer = t.optimizer().exportState();
            savedStep = t.step();
            savedDropout = model.dropoutCounter();
        }
        try (CpuBackend be = new CpuBackend(2);
                LlamaModel model = new LlamaModel(CONFIG, LORA, be, 7);
                Trainer t = trainer(model)) {
            saved.forEach(model.parameters()::setValues);
            t.optimizer().importState(savedOptimizer);
            t.setStep(savedStep);
            model.setDropoutCounter(savedDropout);
            for (int s = N; s < 2 * N; s++) {
                t.step(batch(s), S2);
            }
            Map<String, float[]> resumed = trainable(model);
            assertEquals(straight.keySet(), resumed.keySet());
            for (String name : straight.keySet()) {
                assertArrayEquals(straight.get(name), resumed.get(name), 0f, name);
            }
            // Training moved the adapters away from their init (otherwise equality would prove nothing).
            assertFalse(java.util.Arrays.equals(
                    saved.get("model.layers.0.self_attn.q_proj.lora_B.weight"),
                    resumed.get("model.layers.0.self_attn.q_proj.lora_B.weight")));
        }
    }

    @Test
    void importRejectsStateOfAnotherTrainableSet() {
        try (CpuBackend be = new CpuBackend(1);
                LlamaModel model = new LlamaModel(CONFIG, LORA, be, 7);
                Trainer t = trainer(model)) {
            Map<String, AdamW.ParamState> state = t.optimizer().exportState();
            state.remove("model.norm.weight");
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> t.optimizer().importState(state));
            assertEquals(true, e.getMessage().contains("model.norm.weight"));
        }
    }
}
