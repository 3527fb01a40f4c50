package dev.longlora.operator.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Request counts by verb and resource, from the API server's {@code apiserver_request_total} metric: what a run
 * asked of the server, to tell whether the operator's requests or their latency limit it.
 */
final class ApiServerRequests {

    private static final Pattern SAMPLE = Pattern.compile("^apiserver_request_total\\{(.*)} (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private ApiServerRequests() {}

    /** "VERB resource[/subresource]" -> count, summed over the other labels (code, scope, component...). */
    static Map<String, Double> parse(String metrics) {
        Map<String, Double> counts = new TreeMap<>();
        for (String line : metrics.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            String resource = labels.getOrDefault("resource", "");
            if (resource.isEmpty() || "WATCH".equals(labels.get("verb"))) {
                continue;
            }
            String sub = labels.getOrDefault("subresource", "");
            String key = labels.get("verb") + " " + resource + (sub.isEmpty() ? "" : "/" + sub);
            counts.merge(key, Double.parseDouble(m.group(2)), Double::sum);
        }
        return counts;
    }

    /** after - before, keeping only what changed. */
    static Map<String, Double> delta(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> delta = new TreeMap<>();
        after.forEach((k, v) -> {
            double d = v - before.getOrDefault(k, 0.0);
            if (d > 0) {
                delta.put(k, d);
            }
        });
        return delta;
    }
}
