package dev.longlora.trainer.checkpoint;

import dev.longlora.trainer.io.TensorData;
import java.util.Map;

/**
 * Everything a resumed run needs to continue exactly where a saved one stopped.
 *
 * @param step           optimizer steps completed
 * @param dataPosition   training windows consumed
 * @param seed           the run's seed (data order, dropout masks)
 * @param dropoutCounter dropout masks drawn so far (the model's RNG position)
 * @param trainable      trainable weights by HF/PEFT name
 * @param optimizer      optimizer tensors (e.g. {@code <name>.exp_avg}, {@code <name>.exp_avg_sq})
 * @param optimizerStep  the optimizer's own step counter (bias correction)
 * @param scalars        small extra values (e.g. last loss), kept as text
 */
public record CheckpointState(
        long step,
        long dataPosition,
        long seed,
        long dropoutCounter,
        Map<String, TensorData> trainable,
        Map<String, TensorData> optimizer,
        long optimizerStep,
        Map<String, String> scalars) {
    public CheckpointState {
        trainable = Map.copyOf(trainable);
        optimizer = Map.copyOf(optimizer);
        scalars = scalars == null ? Map.of() : Map.copyOf(scalars);
    }
}
