package dev.longlora.operator.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** job.json as the trainer reads it: deterministic, indented, so an unchanged job writes byte-identical data. */
public final class JobConfigJson {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JobConfigJson() {}

    public static String write(JobConfig config) {
        try {
            return MAPPER.writeValueAsString(config) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise job.json", e);
        }
    }

    public static JobConfig read(String json) {
        try {
            return MAPPER.readValue(json, JobConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("job.json is not valid: " + e.getOriginalMessage(), e);
        }
    }
}
