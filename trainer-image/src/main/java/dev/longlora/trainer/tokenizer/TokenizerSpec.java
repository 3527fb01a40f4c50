package dev.longlora.trainer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the trainer needs to know about an HF {@code tokenizer.json} besides encoding: the vocabulary size (model
 * vocabulary and added tokens) and the BOS/EOS ids. BOS/EOS come from {@code tokenizer_config.json} beside it
 * ({@code bos_token}/{@code eos_token}, a string or {@code {"content": ...}}), else from the usual LLaMA names.
 */
public record TokenizerSpec(Path file, int vocabSize, int bos, int eos) {

    private static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>", "<|startoftext|>");
    private static final List<String> EOS_NAMES = List.of("</s>", "<|end_of_text|>", "<|endoftext|>");

    public static TokenizerSpec read(Path tokenizerJson) {
        ObjectMapper json = new ObjectMapper();
        JsonNode root;
        try {
            root = json.readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new FormatException(tokenizerJson, "is not a readable tokenizer.json: " + e.getMessage(), e);
        }
        Map<String, Integer> ids = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject())
            vocab.properties().forEach(e -> ids.put(e.getKey(), e.getValue().asInt()));
        else if (vocab.isArray()) { // Unigram: [[piece, score], ...], id = index
            for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i).path(0).asText(), i);
        }
        for (JsonNode t : root.path("added_tokens"))
            ids.put(t.path("content").asText(), t.path("id").asInt());
        if (ids.isEmpty()) throw new FormatException(tokenizerJson, "has no model.vocab and no added_tokens");
        int vocabSize = ids.values().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;

        JsonNode config = readConfig(json, tokenizerJson.resolveSibling("tokenizer_config.json"));
        int bos = find(ids, name(config, "bos_token"), BOS_NAMES);
        int eos = find(ids, name(config, "eos_token"), EOS_NAMES);
        if (eos < 0) {
            throw new FormatException(
                    tokenizerJson,
                    "names no end-of-sequence token (documents are joined with it): "
                            + "set eos_token in tokenizer_config.json beside it");
        }
        return new TokenizerSpec(tokenizerJson, vocabSize, bos, eos);
    }

    private static JsonNode readConfig(ObjectMapper json, Path file) {
        if (!Files.isRegularFile(file)) return json.createObjectNode();
        try {
            return json.readTree(file.toFile());
        } catch (IOException e) {
            throw new FormatException(file, "is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String name(JsonNode config, String field) {
        JsonNode n = config.path(field);
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual())
            return n.path("content").asText();
        return null;
    }

    private static int find(Map<String, Integer> ids, String configured, List<String> fallbacks) {
        if (configured != null) return ids.getOrDefault(configured, -1);
        for (String n : fallbacks) {
            if (ids.containsKey(n)) return ids.get(n);
        }
        return -1;
    }
}
