package dev.longlora.trainer.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.trainer.model.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * HF {@code config.json} of a LLaMA-family model, to and from {@link LlamaConfig}. Only linear RoPE scaling
 * (position interpolation) is understood; any other type is rejected, never ignored. transformers 4.x writes the
 * scaling as {@code rope_scaling} and {@code rope_theta} at the top level; transformers 5 writes one
 * {@code rope_parameters} object ({@code rope_type}, {@code factor}, {@code rope_theta}) and still reads
 * {@code rope_scaling}. Both are read; both are written, saying the same, so either version loads the model.
 */
public final class HfConfigJson {

    public static final String FILE_NAME = "config.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfConfigJson() {}

    /** Reads and validates {@code file}. */
    public static LlamaConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new FormatException(
                    file, "file not found (a model directory needs config.json and model.safetensors)");
        } catch (IOException e) {
            throw new FormatException(file, "not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new FormatException(file, "must hold a JSON object");
        }
        return fromJson(file, root);
    }

    static LlamaConfig fromJson(Path file, JsonNode root) {
        String modelType = root.path("model_type").asText("llama");
        if (!modelType.equals("llama")) {
            throw new FormatException(
                    file,
                    "model_type '" + modelType
                            + "' is not supported: this trainer runs LLaMA-family models (model_type llama)");
        }
        int hidden = requiredInt(file, root, "hidden_size");
        int heads = requiredInt(file, root, "num_attention_heads");
        int kvHeads = optionalInt(file, root, "num_key_value_heads", heads);
        if (root.hasNonNull("head_dim") && heads > 0 && root.get("head_dim").asInt() != hidden / heads) {
            throw new FormatException(
                    file,
                    "head_dim " + root.get("head_dim").asInt() + " differs from hidden_size / num_attention_heads = "
                            + hidden / heads + ", which this trainer does not support");
        }
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new FormatException(file, "hidden_act '" + act + "' is not supported (LLaMA uses silu)");
        }
        LlamaConfig config = new LlamaConfig(
                requiredInt(file, root, "vocab_size"),
                hidden,
                requiredInt(file, root, "intermediate_size"),
                requiredInt(file, root, "num_hidden_layers"),
                heads,
                kvHeads,
                optionalDouble(file, root, "rms_norm_eps", 1e-6),
                ropeTheta(file, root),
                optionalInt(file, root, "max_position_embeddings", 2048),
                ropeFactor(file, scaling(file, root)),
                root.path("tie_word_embeddings").asBoolean(false));
        try {
            return config.validate();
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    /** The scaling object: 4.x's {@code rope_scaling}, else 5.x's {@code rope_parameters} (null when neither). */
    private static JsonNode scaling(Path file, JsonNode root) {
        JsonNode legacy = root.get("rope_scaling");
        if (legacy != null && !legacy.isNull()) return legacy;
        JsonNode parameters = root.get("rope_parameters");
        if (parameters == null || parameters.isNull()) return null;
        if (parameters.isObject() && !parameters.has("rope_type") && !parameters.has("type")) {
            throw new FormatException(
                    file,
                    "rope_parameters has no rope_type (per-layer-type RoPE parameters are not LLaMA's): expected"
                            + " {\"rope_type\": \"linear\", \"factor\": F, \"rope_theta\": T}");
        }
        return parameters;
    }

    /** The top-level {@code rope_theta} (4.x), else the one inside {@code rope_parameters} (5.x), else 10000. */
    private static double ropeTheta(Path file, JsonNode root) {
        if (root.hasNonNull("rope_theta")) return optionalDouble(file, root, "rope_theta", 10000.0);
        JsonNode parameters = root.get("rope_parameters");
        if (parameters != null && parameters.isObject() && parameters.hasNonNull("rope_theta")) {
            JsonNode v = parameters.get("rope_theta");
            if (!v.isNumber()) {
                throw new FormatException(file, "rope_parameters.rope_theta must be a number, found " + v);
            }
            return v.doubleValue();
        }
        return 10000.0;
    }

    private static double ropeFactor(Path file, JsonNode scaling) {
        if (scaling == null || scaling.isNull()) return 1.0;
        if (!scaling.isObject()) {
            throw new FormatException(
                    file, "rope_scaling must be an object like {\"type\": \"linear\", \"factor\": 8.0} or null");
        }
        String type = scaling.hasNonNull("rope_type")
                ? scaling.get("rope_type").asText()
                : scaling.path("type").asText("");
        // transformers 5 spells "no scaling" as rope_type default
        if (type.toLowerCase(Locale.ROOT).equals("default")) return 1.0;
        if (!type.toLowerCase(Locale.ROOT).equals("linear")) {
            throw new FormatException(
                    file,
                    "rope_scaling type '" + type + "' is not supported: this trainer implements linear "
                            + "position interpolation only (rope_scaling {\"type\": \"linear\", \"factor\": F}); "
                            + "convert the model or remove rope_scaling");
        }
        JsonNode factor = scaling.get("factor");
        if (factor == null
                || !factor.isNumber()
                || !(factor.asDouble() >= 1.0)
                || !Double.isFinite(factor.asDouble())) {
            throw new FormatException(file, "rope_scaling.factor must be a number >= 1, found " + factor);
        }
        return factor.asDouble();
    }

    private static int requiredInt(Path file, JsonNode root, String field) {
        if (!root.hasNonNull(field)) {
            throw new FormatException(file, "field '" + field + "' is missing");
        }
        return intValue(file, root.get(field), field);
    }

    private static int optionalInt(Path file, JsonNode root, String field, int fallback) {
        return root.hasNonNull(field) ? intValue(file, root.get(field), field) : fallback;
    }

    private static int intValue(Path file, JsonNode v, String field) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new FormatException(file, "field '" + field + "' must be an integer, found " + v);
        }
        return v.intValue();
    }

    private static double optionalDouble(Path file, JsonNode root, String field, double fallback) {
        if (!root.hasNonNull(field)) return fallback;
        JsonNode v = root.get(field);
        if (!v.isNumber()) throw new FormatException(file, "field '" + field + "' must be a number, found " + v);
        return v.doubleValue();
    }

    /** The config as an HF LLaMA config.json object (what transformers' LlamaConfig reads). */
    public static ObjectNode toJson(LlamaConfig c) {
        return toJson(c, "float32");
    }

    /** As {@link #toJson(LlamaConfig)} with {@code torch_dtype} naming the stored weights' dtype (e.g. bfloat16). */
    public static ObjectNode toJson(LlamaConfig c, String torchDtype) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("model_type", "llama");
        o.put("hidden_act", "silu");
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("intermediate_size", c.intermediateSize());
        o.put("num_hidden_layers", c.numLayers());
        o.put("num_attention_heads", c.numHeads());
        o.put("num_key_value_heads", c.numKvHeads());
        o.put("rms_norm_eps", c.rmsNormEps());
        o.put("rope_theta", c.ropeTheta());
        o.put("max_position_embeddings", c.maxPositionEmbeddings());
        ObjectNode parameters = o.putObject("rope_parameters");
        if (c.ropeScalingFactor() != 1.0) {
            ObjectNode s = o.putObject("rope_scaling");
            // Only "type": older transformers insist on exactly {type, factor}; newer ones map type to rope_type.
            s.put("type", "linear");
            s.put("factor", c.ropeScalingFactor());
            parameters.put("rope_type", "linear");
            parameters.put("factor", c.ropeScalingFactor());
        } else {
            o.putNull("rope_scaling");
            parameters.put("rope_type", "default");
        }
        // transformers 5's own spelling; 4.x keeps it as an unused attribute and reads the two fields above
        parameters.put("rope_theta", c.ropeTheta());
        o.put("tie_word_embeddings", c.tieWordEmbeddings());
        o.put("attention_bias", false);
        o.put("mlp_bias", false);
        o.put("torch_dtype", torchDtype);
        return o;
    }

    public static void write(Path file, LlamaConfig config) {
        try {
            Files.write(file, JSON.writeValueAsBytes(toJson(config)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
