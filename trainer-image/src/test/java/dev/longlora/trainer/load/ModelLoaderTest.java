package dev.longlora.trainer.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.longlora.trainer.backend.cpu.CpuBackend;
import dev.longlora.trainer.io.ModelDirectory;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaConfig;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ModelLoader skips the random fill of base weights yet yields the model the random-then-load path gave. */
class ModelLoaderTest {

    static final LlamaConfig CONFIG = new LlamaConfig(50, 16, 32, 2, 4, 2, 1e-5, 10000.0, 64, 1.0, false);

    @TempDir
    Path dir;

    private final CpuBackend backend = new CpuBackend(1);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void modelDirectoryLoadsToTheSameWeightsAndLossAsRandomInitThenLoad() {
        Path m = dir.resolve("m");
        try (LlamaModel source = new LlamaModel(CONFIG, LoraConfig.frozen(), backend, 11)) {
            ModelDirectory.save(m, CONFIG, source.parameters(), SafetensorsDtype.BF16);
        }
        int[] tokens = {4, 8, 15, 16, 23, 42, 1, 2};
        try (LlamaModel expected = new LlamaModel(CONFIG, LoraConfig.longLora(), backend, 5);
                LlamaModel loaded = ModelLoader.load(m.toString(), null, LoraConfig.longLora(), backend, 5)) {
            ModelDirectory.loadWeights(m, expected.parameters());
            assertEquals(expected.parameters().numel(), loaded.parameters().numel());
            for (Parameter p : expected.parameters().all()) {
                assertArrayEquals(
                        expected.parameters().values(p.name()),
                        loaded.parameters().values(p.name()),
                        p.name());
            }
            assertTrue(loaded.parameters().awaitingLoad().isEmpty());
            assertEquals(
                    expected.loss(tokens, tokens, AttentionSpec.full()),
                    loaded.loss(tokens, tokens, AttentionSpec.full()));
        }
    }

    @Test
    void builtinModelKeepsItsFixedWeights() {
        String name = BuiltinModels.TINY;
        LlamaConfig config = BuiltinModels.config(name);
        try (LlamaModel reference = new LlamaModel(config, LoraConfig.frozen(), backend, BuiltinModels.WEIGHT_SEED);
                LlamaModel loaded = ModelLoader.load(name, null, LoraConfig.longLora(), backend, 5)) {
            for (Parameter p : reference.parameters().all()) {
                assertArrayEquals(
                        reference.parameters().values(p.name()),
                        loaded.parameters().values(p.name()),
                        p.name());
            }
            assertTrue(loaded.parameters().awaitingLoad().isEmpty());
        }
    }
}
