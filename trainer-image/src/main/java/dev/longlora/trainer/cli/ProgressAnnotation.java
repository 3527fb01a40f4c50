package dev.longlora.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The JSON rank 0 puts into its pod's {@code longlora.dev/progress} annotation (docs/contract.md section 6).
 * The sink that patches the pod wraps this; keeping the format here lets it be tested without a cluster.
 */
final class ProgressAnnotation {
    static final String KEY = "longlora.dev/progress";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The newest checkpoint, if any. */
    record Checkpoint(long step, Path path, Instant time) {}

    private ProgressAnnotation() {}

    static String json(ProgressSink.StepProgress p, Checkpoint last, Instant now) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", p.step());
        o.put("totalSteps", p.totalSteps());
        o.put("loss", p.loss());
        o.put("learningRate", p.learningRate());
        o.put("tokensPerSecond", p.tokensPerSecond());
        if (p.etaSeconds() >= 0) o.put("etaSeconds", p.etaSeconds());
        o.put("updateTime", now.truncatedTo(ChronoUnit.SECONDS).toString());
        if (last != null) {
            ObjectNode c = o.putObject("lastCheckpoint");
            c.put("step", last.step());
            c.put("path", last.path().toString());
            c.put("time", last.time().truncatedTo(ChronoUnit.SECONDS).toString());
        }
        return o.toString();
    }
}
