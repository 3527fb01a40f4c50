package dev.longlora.trainer.io;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How an adapter was trained, {@code longlora-training.json} beside its PEFT files: the context it was extended from
 * and to, the position-interpolation factor, the attention it was trained with, steps and final loss (null when this
 * process ran no step, e.g. it resumed at the last one). PEFT's own
 * config cannot say this, and without it a merged model would carry the base's {@code rope_scaling} and
 * {@code max_position_embeddings}: the mistake LongLoRA's users hit when uploaded configs lacked rope_scaling and
 * produced garbage at long context. {@code merge} takes its defaults from here.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainingRecord(
        int originalLength,
        int targetLength,
        double ropeFactor,
        String attentionPattern,
        int attentionGroups,
        long steps,
        Double finalLoss,
        String baseModel) {
    public static final String FILE_NAME = "longlora-training.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public void writeInto(Path adapterDir) throws IOException {
        Files.write(adapterDir.resolve(FILE_NAME), JSON.writeValueAsBytes(this));
    }

    /** The adapter's record; empty for adapters trained elsewhere (plain PEFT adapters have none). */
    public static Optional<TrainingRecord> read(Path adapterDir) {
        Path file = adapterDir.resolve(FILE_NAME);
        try {
            TrainingRecord r = JSON.readValue(Files.readAllBytes(file), TrainingRecord.class);
            if (r.targetLength() < 1 || !(r.ropeFactor() >= 1)) {
                throw new FormatException(
                        file,
                        "targetLength " + r.targetLength() + " and ropeFactor " + r.ropeFactor()
                                + " must be positive (and the factor >= 1)");
            }
            return Optional.of(r);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new FormatException(file, "unreadable or not this trainer's record: " + e.getMessage());
        }
    }
}
