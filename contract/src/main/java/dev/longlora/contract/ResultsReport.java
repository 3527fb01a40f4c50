package dev.longlora.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a finished job produced and how good it is (docs/contract.md section 8): rank 0 writes it last, as its
 * container's termination message ({@link PodPaths#TERMINATION_MESSAGE_PATH}); the operator copies it into
 * status.results. Paths are inside the pod; perplexity per evaluated length, passkey accuracy (0..1) per length.
 * Kubernetes keeps at most {@link #MAX_BYTES} bytes of a termination message, so a longer report is refused here.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResultsReport(
        String adapterPath, String mergedPath, List<Perplexity> perplexity, List<Passkey> passkey, String time) {

    /** The kubelet's limit on one container's termination message. */
    public static final int MAX_BYTES = 4096;

    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public ResultsReport {
        perplexity = perplexity == null ? List.of() : List.copyOf(perplexity);
        passkey = passkey == null ? List.of() : List.copyOf(passkey);
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Perplexity(Integer length, Double value) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Passkey(Integer length, Double accuracy) {}

    /** A report stamped {@code now} (RFC 3339, whole seconds, like Kubernetes' times). */
    public static ResultsReport of(
            String adapterPath, String mergedPath, List<Perplexity> perplexity, List<Passkey> passkey, Instant now) {
        return new ResultsReport(
                adapterPath,
                mergedPath,
                perplexity,
                passkey,
                now.truncatedTo(ChronoUnit.SECONDS).toString());
    }

    /** One line of JSON; refuses a report the kubelet would truncate. */
    public String toJson() {
        String json;
        try {
            json = JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a results report", e);
        }
        int bytes = json.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw new IllegalStateException("the results report has " + bytes + " bytes, more than the " + MAX_BYTES
                    + " of a termination message: shorten the paths or evaluate fewer lengths");
        }
        return json;
    }

    /**
     * The report in a termination message; a message that is not one throws {@link IllegalArgumentException} saying
     * what is wrong, for the job's status (a bad report never fails a trained job).
     */
    public static ResultsReport parse(String message) {
        if (message == null || message.isBlank()) {
            throw new IllegalArgumentException("the termination message is empty");
        }
        ResultsReport r;
        try {
            r = JSON.readValue(message, ResultsReport.class);
        } catch (JsonProcessingException e) {
            String first = e.getOriginalMessage().lines().findFirst().orElse("");
            throw new IllegalArgumentException("the termination message is not a results report (" + first + ")");
        }
        if (r == null || r.adapterPath() == null || r.adapterPath().isBlank()) {
            throw new IllegalArgumentException("the termination message has no adapterPath");
        }
        for (Perplexity p : r.perplexity()) {
            if (p == null || p.length() == null || p.value() == null) {
                throw new IllegalArgumentException("a perplexity entry lacks its length or value");
            }
        }
        for (Passkey p : r.passkey()) {
            if (p == null || p.length() == null || p.accuracy() == null) {
                throw new IllegalArgumentException("a passkey entry lacks its length or accuracy");
            }
        }
        return r;
    }

    /** The perplexity measured at {@code length}, or null. */
    public Double perplexityAt(int length) {
        return perplexity.stream()
                .filter(p -> p.length() == length)
                .map(Perplexity::value)
                .findFirst()
                .orElse(null);
    }

    /** For humans (an Event, a log line): "perplexity 12.31 at 256, 9.87 at 1024; passkey 80% at 1024; ...". */
    public String summary() {
        List<String> parts = new ArrayList<>();
        if (!perplexity.isEmpty()) {
            List<String> ppl = perplexity.stream()
                    .map(p -> String.format(Locale.ROOT, "%.4g at %d", p.value(), p.length()))
                    .toList();
            parts.add("perplexity " + String.join(", ", ppl));
        }
        if (!passkey.isEmpty()) {
            List<String> pk = passkey.stream()
                    .map(p -> String.format(Locale.ROOT, "%.0f%% at %d", 100 * p.accuracy(), p.length()))
                    .toList();
            parts.add("passkey " + String.join(", ", pk));
        }
        if (parts.isEmpty()) parts.add("no evaluation");
        parts.add("adapter " + adapterPath);
        if (mergedPath != null) parts.add("merged model " + mergedPath);
        return String.join("; ", parts);
    }
}
