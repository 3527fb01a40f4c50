package dev.longlora.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * job.json on the wire: the operator writes it (deterministic and indented, so an unchanged job writes
 * byte-identical data and the ConfigMap is not rewritten), the trainer reads it with command-line overrides
 * (dotted paths such as {@code training.maxSteps}), applied to the JSON tree before binding so a flag and a file
 * field go through the same parsing and the same validation.
 */
public final class JobConfigJson {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private JobConfigJson() {}

    /** The file's text, ending with a newline. */
    public static String write(JobConfig config) {
        try {
            return JSON.writeValueAsString(config) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise job.json", e);
        }
    }

    /** Reads {@code file} (or starts from an empty config when null), applies {@code overrides}, validates. */
    public static JobConfig read(Path file, Map<String, String> overrides) {
        ObjectNode tree;
        if (file == null) {
            tree = JSON.createObjectNode();
        } else {
            try {
                JsonNode node = JSON.readTree(Files.readAllBytes(file));
                if (node == null || !node.isObject()) throw new ConfigException(file + ": must hold a JSON object");
                tree = (ObjectNode) node;
            } catch (NoSuchFileException e) {
                throw new ConfigException(file + ": config file not found (pass --config with the job's job.json)");
            } catch (IOException e) {
                throw new ConfigException(file + ": not valid JSON: " + e.getMessage());
            }
        }
        for (Map.Entry<String, String> o : overrides.entrySet()) set(tree, o.getKey(), o.getValue());
        return bind(tree, file == null ? "the command line" : file.toString()).validate();
    }

    /** Parses and validates a whole document. */
    public static JobConfig parse(String json) {
        try {
            JsonNode node = JSON.readTree(json);
            if (!(node instanceof ObjectNode obj)) throw new ConfigException("job config must be a JSON object");
            return bind(obj, "job config").validate();
        } catch (IOException e) {
            throw new ConfigException("job config is not valid JSON: " + e.getMessage());
        }
    }

    /** The config as a JSON tree (for documents that embed it, such as `train --dry-run`). */
    public static JsonNode tree(JobConfig config) {
        return JSON.valueToTree(config);
    }

    private static JobConfig bind(ObjectNode tree, String source) {
        try {
            return JSON.treeToValue(tree, JobConfig.class);
        } catch (MismatchedInputException e) {
            String path = e.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."))
                    .replace(".[", "[");
            String found = e instanceof InvalidFormatException ife ? " (found " + ife.getValue() + ")" : "";
            throw new ConfigException(source + ": field '" + path + "' has the wrong type" + found + ": expected "
                    + (e.getTargetType() == null ? "another type" : simpleType(e.getTargetType())));
        } catch (IOException e) {
            throw new ConfigException(source + ": " + e.getMessage());
        }
    }

    private static String simpleType(Class<?> c) {
        return switch (c.getSimpleName()) {
            case "Integer", "int", "Long", "long" -> "an integer";
            case "Double", "double" -> "a number";
            case "Boolean", "boolean" -> "true or false";
            case "String" -> "a string";
            case "List" -> "a list";
            default -> "an object";
        };
    }

    /** Sets dotted {@code path} in the tree; the value is parsed as JSON when it is valid JSON, else a string. */
    static void set(ObjectNode tree, String path, String value) {
        String[] parts = path.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (!(child instanceof ObjectNode)) child = node.putObject(parts[i]);
            node = (ObjectNode) child;
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(value);
        } catch (IOException e) {
            parsed = null;
        }
        if (parsed == null || parsed.isMissingNode()) node.put(parts[parts.length - 1], value);
        else node.set(parts[parts.length - 1], parsed);
    }
}
