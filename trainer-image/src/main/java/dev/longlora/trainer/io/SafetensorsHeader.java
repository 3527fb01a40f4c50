package dev.longlora.trainer.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file. The header is untrusted input: every entry is
 * checked (known dtype, non-negative shape, offsets inside the data section, byte length = elements x dtype size,
 * no two tensors overlapping) before anything reads tensor data, and every failure is a {@link FormatException}
 * naming the file and the tensor.
 */
public record SafetensorsHeader(Map<String, TensorEntry> tensors, Map<String, String> metadata) {

    /** Headers larger than this are refused: a real header is a few KB to a few MB even for huge models. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /**
     * Parses {@code headerJson} for a file whose data section is {@code dataLength} bytes long.
     */
    public static SafetensorsHeader parse(Path file, byte[] headerJson, long dataLength) {
        JsonNode root;
        try {
            root = JSON.readTree(headerJson);
        } catch (JsonProcessingException e) {
            throw new FormatException(file, "safetensors header is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new FormatException(file, "safetensors header is unreadable: " + e.getMessage());
        }
        if (!(root instanceof ObjectNode obj)) {
            throw new FormatException(file, "safetensors header must be a JSON object");
        }
        Map<String, String> metadata = Map.of();
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, field.getValue());
            } else {
                tensors.put(field.getKey(), parseEntry(file, field.getKey(), field.getValue(), dataLength));
            }
        }
        checkNoOverlap(file, tensors.values());
        return new SafetensorsHeader(Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) {
        if (!node.isObject()) {
            throw new FormatException(file, METADATA_KEY + " must be an object of string values");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new FormatException(file, METADATA_KEY + "." + e.getKey() + " must be a string");
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorEntry parseEntry(Path file, String name, JsonNode node, long dataLength) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new FormatException(file, where + ": entry must be an object with dtype, shape and data_offsets");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new FormatException(file, where + ": missing or non-string 'dtype'");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromHeader(dtypeNode.textValue())
                .orElseThrow(() -> new FormatException(
                        file,
                        where + ": dtype " + dtypeNode.textValue()
                                + " is not supported (this trainer reads F32, BF16 and F16)"));
        long[] shape = longArray(file, where, "shape", node.get("shape"), -1);
        for (long d : shape) {
            if (d > Integer.MAX_VALUE) {
                throw new FormatException(file, where + ": dimension " + d + " of 'shape' is too large");
            }
        }
        long[] offsets = longArray(file, where, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new FormatException(file, where + ": data_offsets [" + begin + ", " + end + "] are reversed");
        }
        if (end > dataLength) {
            throw new FormatException(
                    file,
                    where + ": data_offsets end " + end + " lies beyond the data section (" + dataLength
                            + " bytes); the file is truncated or corrupt");
        }
        long expected;
        try {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            expected = Math.multiplyExact(n, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new FormatException(file, where + ": shape " + java.util.Arrays.toString(shape) + " is too large");
        }
        if (expected != end - begin) {
            throw new FormatException(
                    file,
                    where + ": shape " + java.util.Arrays.toString(shape) + " x " + dtype + " needs " + expected
                            + " bytes but data_offsets span " + (end - begin));
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    private static long[] longArray(Path file, String where, String field, JsonNode node, int requiredLength) {
        if (node == null || !node.isArray()) {
            throw new FormatException(file, where + ": missing or non-array '" + field + "'");
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw new FormatException(file, where + ": '" + field + "' must have " + requiredLength + " elements");
        }
        if (node.size() > 16) {
            throw new FormatException(file, where + ": '" + field + "' has " + node.size() + " dimensions");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new FormatException(
                        file, where + ": '" + field + "' must hold non-negative integers, found " + v);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void checkNoOverlap(Path file, java.util.Collection<TensorEntry> entries) {
        List<TensorEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        TensorEntry previous = null;
        for (TensorEntry e : sorted) {
            if (e.byteLength() == 0) continue; // empty tensors occupy no bytes
            if (previous != null && e.begin() < previous.end()) {
                throw new FormatException(
                        file, "tensors '" + previous.name() + "' and '" + e.name() + "' overlap in the data section");
            }
            previous = e;
        }
    }
}
