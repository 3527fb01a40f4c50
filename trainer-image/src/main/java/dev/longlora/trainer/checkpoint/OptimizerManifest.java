package dev.longlora.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.CheckpointLayout;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.io.TensorData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a partitioned optimizer state lies in a checkpoint: the flat layout of the trainable parameters and which rank's
 * file holds which element range. A resume at any world size reads it back as one whole state (each rank then keeps
 * its own new shard), so the partitioning of the writer does not bind the reader. {@code zeroStage} records the
 * writer's stage (1-3) for people and logs; -1 in manifests written before it was recorded.
 */
public record OptimizerManifest(int worldSize, int zeroStage, long step, List<Entry> parameters, List<Range> shards) {
    public static final String M_SUFFIX = ".exp_avg";
    public static final String V_SUFFIX = ".exp_avg_sq";
    public static final String STEP_SUFFIX = ".step";
    static final String M_TENSOR = "exp_avg";
    static final String V_TENSOR = "exp_avg_sq";
    private static final String FORMAT = "longlora-zero-optimizer/1";

    /** A parameter at {@code offset} of the flat buffer. */
    public record Entry(String name, int[] shape, int offset) {
        int numel() {
            int n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    /** Rank {@code rank}'s elements [start, end). */
    public record Range(int rank, int start, int end) {}

    int flatLength() {
        Entry last = parameters.getLast();
        return last.offset() + last.numel();
    }

    ObjectNode toJson(ObjectMapper json) {
        ObjectNode o = json.createObjectNode();
        o.put("format", FORMAT);
        o.put("worldSize", worldSize);
        o.put("zeroStage", zeroStage);
        o.put("step", step);
        o.put("flatLength", flatLength());
        ArrayNode params = o.putArray("parameters");
        for (Entry e : parameters) {
            ObjectNode p = params.addObject();
            p.put("name", e.name());
            ArrayNode shape = p.putArray("shape");
            for (int d : e.shape()) shape.add(d);
            p.put("offset", e.offset());
        }
        ArrayNode ranges = o.putArray("shards");
        for (Range r : shards) {
            ranges.addObject()
                    .put("rank", r.rank())
                    .put("file", CheckpointLayout.optimizerShardFile(r.rank()))
                    .put("start", r.start())
                    .put("end", r.end());
        }
        return o;
    }

    static OptimizerManifest fromJson(JsonNode o, Path file) {
        if (!FORMAT.equals(o.path("format").asText())) {
            throw new FormatException(file, "is not a " + FORMAT + " manifest");
        }
        List<Entry> params = new ArrayList<>();
        for (JsonNode p : o.path("parameters")) {
            int[] shape = new int[p.path("shape").size()];
            for (int i = 0; i < shape.length; i++)
                shape[i] = p.path("shape").get(i).asInt();
            params.add(
                    new Entry(p.path("name").asText(), shape, p.path("offset").asInt()));
        }
        List<Range> shards = new ArrayList<>();
        for (JsonNode r : o.path("shards")) {
            shards.add(new Range(
                    r.path("rank").asInt(),
                    r.path("start").asInt(),
                    r.path("end").asInt()));
        }
        if (params.isEmpty() || shards.size() != o.path("worldSize").asInt()) {
            throw new FormatException(
                    file,
                    "lists " + params.size() + " parameters and " + shards.size() + " shards for world size "
                            + o.path("worldSize"));
        }
        return new OptimizerManifest(
                o.path("worldSize").asInt(),
                o.path("zeroStage").asInt(-1),
                o.path("step").asLong(),
                params,
                shards);
    }

    /** Every shard file of {@code dir} joined into the whole state, by the names the optimizer exports. */
    Map<String, TensorData> readWholeState(Path dir) {
        int length = flatLength();
        float[] m = new float[length];
        float[] v = new float[length];
        int covered = 0;
        for (Range r : shards) {
            Path file = dir.resolve(CheckpointLayout.optimizerShardFile(r.rank()));
            if (r.start() != covered || r.end() < r.start() || r.end() > length) {
                throw new FormatException(
                        file,
                        "covers [" + r.start() + ", " + r.end() + ") but the shards so far" + " end at " + covered
                                + " of " + length);
            }
            try (SafetensorsReader reader = SafetensorsReader.open(file)) {
                float[] sm = reader.read(M_TENSOR).values();
                float[] sv = reader.read(V_TENSOR).values();
                if (sm.length != r.end() - r.start() || sv.length != sm.length) {
                    throw new FormatException(
                            file, "holds " + sm.length + " values for a shard of " + (r.end() - r.start()));
                }
                System.arraycopy(sm, 0, m, r.start(), sm.length);
                System.arraycopy(sv, 0, v, r.start(), sv.length);
            }
            covered = r.end();
        }
        if (covered != length) {
            throw new FormatException(dir, "optimizer shards cover " + covered + " of " + length + " values");
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Entry e : parameters) {
            float[] pm = new float[e.numel()];
            float[] pv = new float[e.numel()];
            System.arraycopy(m, e.offset(), pm, 0, pm.length);
            System.arraycopy(v, e.offset(), pv, 0, pv.length);
            out.put(e.name() + M_SUFFIX, new TensorData(e.shape(), pm));
            out.put(e.name() + V_SUFFIX, new TensorData(e.shape(), pv));
            out.put(e.name() + STEP_SUFFIX, TensorData.of(new float[] {step}, 1));
        }
        return out;
    }
}
