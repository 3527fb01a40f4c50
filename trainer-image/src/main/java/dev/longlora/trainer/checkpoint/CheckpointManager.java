package dev.longlora.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.CheckpointLayout;
import dev.longlora.contract.ConfigException;
import dev.longlora.contract.ResumeFrom;
import dev.longlora.trainer.io.AtomicDirectory;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.io.SafetensorsReader;
import dev.longlora.trainer.io.SafetensorsWriter;
import dev.longlora.trainer.io.TensorData;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Atomic training checkpoints under {@code $CHECKPOINT_DIR} (docs/contract.md section 5).
 *
 * <p>A save writes {@code step-<N>.tmp/} (trainable.safetensors, optimizer.safetensors, state.json, each fsynced),
 * then {@code COMPLETE} last, holding the SHA-256 of every other file, fsyncs the directory and renames it to
 * {@code step-<N>/}. With ZeRO 1+ on several ranks the optimizer state is one file per rank plus a manifest
 * ({@link #saveSharded}), read back as one whole state at any world size. A directory without COMPLETE, or whose files do not match the recorded digests or do not
 * parse, is never resumed: it is skipped with a logged reason. Only the newest {@code keep} complete
 * checkpoints are kept.
 */
public final class CheckpointManager {

    public static final String TRAINABLE_FILE = CheckpointLayout.TRAINABLE_FILE;
    public static final String OPTIMIZER_FILE = CheckpointLayout.OPTIMIZER_FILE;
    public static final String STATE_FILE = CheckpointLayout.STATE_FILE;
    public static final String COMPLETE_FILE = CheckpointLayout.COMPLETE_MARKER;
    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path root;
    private final int keep;
    private final Consumer<String> log;

    public CheckpointManager(Path root, int keep, Consumer<String> log) {
        if (keep < 1) throw new IllegalArgumentException("keep must be >= 1");
        this.root = root;
        this.keep = keep;
        this.log = log;
    }

    public Path root() {
        return root;
    }

    public Path directoryOf(long step) {
        return root.resolve(CheckpointLayout.stepDirectory(step));
    }

    /** Saves {@code state} atomically ({@link AtomicDirectory}) and prunes old checkpoints; returns its directory. */
    public Path save(CheckpointState state) {
        Path dest = directoryOf(state.step());
        try {
            AtomicDirectory.publish(
                    dest,
                    tmp -> writeCommon(
                            tmp,
                            state,
                            OPTIMIZER_FILE,
                            file -> SafetensorsWriter.write(
                                    file,
                                    state.optimizer(),
                                    Map.of("step", Long.toString(state.step()), "optimizer", "adamw"),
                                    SafetensorsDtype.F32,
                                    true)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + dest + ": " + e.getMessage(), e);
        }
        prune();
        return dest;
    }

    /**
     * Saves a checkpoint whose optimizer state is partitioned over the ranks (ZeRO 1+): every rank calls this for the
     * same step with its own {@code shard}; {@code barrier} is the gang's. Rank 0 ({@code leader}) opens {@code
     * step-<N>.tmp/}, every rank writes {@code optimizer-rank-<r>.safetensors} into it, and after a barrier rank 0
     * writes the trainable weights, state.json, the manifest and the COMPLETE marker (with every file's digest) and
     * publishes the directory; a last barrier releases the others. {@code state.optimizer()} is ignored.
     */
    public Path saveSharded(
            CheckpointState state, OptimizerManifest manifest, OptimizerShard shard, boolean leader, Runnable barrier) {
        Path dest = directoryOf(state.step());
        Path tmp = AtomicDirectory.sibling(dest, AtomicDirectory.TEMP_SUFFIX);
        try {
            if (leader) {
                AtomicDirectory.publish(dest, dir -> {
                    barrier.run(); // the directory exists: the ranks write their shards
                    writeShard(dir, shard, state.step());
                    barrier.run(); // every shard is written and synced
                    writeCommon(
                            dir,
                            state,
                            CheckpointLayout.OPTIMIZER_MANIFEST_FILE,
                            target -> Files.write(target, JSON.writeValueAsBytes(manifest.toJson(JSON))));
                });
            } else {
                barrier.run();
                writeShard(tmp, shard, state.step());
                barrier.run();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + dest + ": " + e.getMessage(), e);
        }
        barrier.run(); // published: every rank may go on
        if (leader) prune();
        return dest;
    }

    private static void writeShard(Path dir, OptimizerShard shard, long step) {
        SafetensorsWriter.write(
                dir.resolve(CheckpointLayout.optimizerShardFile(shard.rank())),
                Map.of(
                        OptimizerManifest.M_TENSOR,
                        TensorData.of(shard.m(), shard.m().length),
                        OptimizerManifest.V_TENSOR,
                        TensorData.of(shard.v(), shard.v().length)),
                Map.of(
                        "step", Long.toString(step),
                        "rank", Integer.toString(shard.rank()),
                        "start", Integer.toString(shard.start()),
                        "end", Integer.toString(shard.end())),
                SafetensorsDtype.F32,
                true);
    }

    /** Writes the optimizer part. */
    private interface OptimizerPart {
        void writeTo(Path file) throws IOException;
    }

    /** Trainable weights, the optimizer part, state.json, then COMPLETE with the digest of every file in {@code dir}. */
    private static void writeCommon(Path dir, CheckpointState state, String optimizerFile, OptimizerPart optimizer)
            throws IOException {
        SafetensorsWriter.write(
                dir.resolve(TRAINABLE_FILE),
                state.trainable(),
                Map.of("step", Long.toString(state.step())),
                SafetensorsDtype.F32,
                true);
        optimizer.writeTo(dir.resolve(optimizerFile));
        Files.write(dir.resolve(STATE_FILE), JSON.writeValueAsBytes(stateJson(state)));
        // The marker is written last and carries every file's digest: resume trusts nothing without it.
        ObjectNode complete = JSON.createObjectNode();
        complete.put("step", state.step());
        ObjectNode digests = complete.putObject("sha256");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        for (Path f : files) digests.put(f.getFileName().toString(), sha256(f));
        Files.write(dir.resolve(COMPLETE_FILE), JSON.writeValueAsBytes(complete));
    }

    private static ObjectNode stateJson(CheckpointState s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", s.step());
        o.put("dataPosition", s.dataPosition());
        ObjectNode rng = o.putObject("rng");
        rng.put("seed", s.seed());
        rng.put("dropoutCounter", s.dropoutCounter());
        o.put("optimizerStep", s.optimizerStep());
        ObjectNode scalars = o.putObject("scalars");
        s.scalars().forEach(scalars::put);
        o.put("time", java.time.Instant.now().toString());
        return o;
    }

    /** Steps of the directories that carry a COMPLETE marker, newest first (not yet verified). */
    public List<Long> completeSteps() {
        return completeSteps(false);
    }

    private List<Long> completeSteps(boolean logIncomplete) {
        if (!Files.isDirectory(root)) return List.of();
        List<Long> steps = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.forEach(p -> {
                Matcher m = STEP_DIR.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    if (Files.exists(p.resolve(COMPLETE_FILE))) {
                        steps.add(Long.parseLong(m.group(1)));
                    } else if (logIncomplete) {
                        log.accept("checkpoint " + p + " has no " + COMPLETE_FILE
                                + " marker (an interrupted save); not resumable");
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        steps.sort(Comparator.reverseOrder());
        return steps;
    }

    /**
     * The checkpoint to resume per RESUME_FROM: latest = the newest one that verifies (skipping broken ones with
     * a logged reason), none = start fresh, N = exactly step N (a {@link ConfigException} when it is missing or
     * broken, since the user asked for it).
     */
    public Optional<CheckpointState> resolve(ResumeFrom resumeFrom) {
        return switch (resumeFrom) {
            case ResumeFrom.None n -> Optional.empty();
            case ResumeFrom.Latest l -> {
                removeStaleTemporaries();
                for (long step : completeSteps(true)) {
                    try {
                        yield Optional.of(load(step));
                    } catch (FormatException e) {
                        log.accept("skipping checkpoint step-" + step + ": " + e.getMessage());
                    }
                }
                yield Optional.empty();
            }
            case ResumeFrom.Step s -> {
                if (!Files.exists(directoryOf(s.step()).resolve(COMPLETE_FILE))) {
                    throw new ConfigException("RESUME_FROM=" + s.step() + " but " + directoryOf(s.step())
                            + " is not a complete checkpoint; complete ones: " + completeSteps());
                }
                try {
                    yield Optional.of(load(s.step()));
                } catch (FormatException e) {
                    throw new ConfigException(
                            "RESUME_FROM=" + s.step() + " names a broken checkpoint: " + e.getMessage());
                }
            }
        };
    }

    /**
     * Deletes {@code step-<N>.tmp/} directories: saves that crashed before their rename. Only called at start,
     * when no save of this job is in progress (rank 0 is the only writer).
     */
    private void removeStaleTemporaries() {
        if (!Files.isDirectory(root)) return;
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("step-\\d+\\.(tmp|old)"))
                    .toList()) {
                log.accept("removing " + p + ", left by a save that was interrupted");
                AtomicDirectory.deleteTree(p);
            }
        } catch (IOException e) {
            log.accept("could not clean up interrupted saves in " + root + ": " + e.getMessage());
        }
    }

    /** Loads and verifies one complete checkpoint; {@link FormatException} when anything does not match. */
    public CheckpointState load(long step) {
        Path dir = directoryOf(step);
        Path completeFile = dir.resolve(COMPLETE_FILE);
        JsonNode complete = readJson(completeFile);
        JsonNode digests = complete.path("sha256");
        Path manifestFile = dir.resolve(CheckpointLayout.OPTIMIZER_MANIFEST_FILE);
        boolean sharded = digests.has(CheckpointLayout.OPTIMIZER_MANIFEST_FILE);
        OptimizerManifest manifest = null;
        List<String> required = new ArrayList<>(List.of(TRAINABLE_FILE, STATE_FILE));
        if (sharded) {
            required.add(CheckpointLayout.OPTIMIZER_MANIFEST_FILE);
            manifest = OptimizerManifest.fromJson(readJson(manifestFile), manifestFile);
            log.accept("step-" + step + " holds the optimizer state of " + manifest.worldSize() + " ranks"
                    + (manifest.zeroStage() > 0 ? " at ZeRO " + manifest.zeroStage() : "")
                    + "; each rank of this run takes its own shard of it");
            for (OptimizerManifest.Range r : manifest.shards()) {
                required.add(CheckpointLayout.optimizerShardFile(r.rank()));
            }
        } else {
            required.add(OPTIMIZER_FILE);
        }
        for (String f : required) {
            Path p = dir.resolve(f);
            if (!Files.exists(p)) throw new FormatException(p, "missing from a checkpoint marked complete");
            String expected = digests.path(f).asText("");
            String actual;
            try {
                actual = sha256(p);
            } catch (IOException e) {
                throw new FormatException(p, "unreadable: " + e.getMessage());
            }
            if (!actual.equals(expected)) {
                throw new FormatException(
                        p, "content does not match the digest recorded in " + COMPLETE_FILE + " (corrupt)");
            }
        }
        JsonNode state = readJson(dir.resolve(STATE_FILE));
        if (state.path("step").asLong(-1) != step) {
            throw new FormatException(dir.resolve(STATE_FILE), "records step " + state.path("step") + ", not " + step);
        }
        Map<String, String> scalars = new LinkedHashMap<>();
        state.path("scalars")
                .fields()
                .forEachRemaining(e -> scalars.put(e.getKey(), e.getValue().asText()));
        return new CheckpointState(
                step,
                state.path("dataPosition").asLong(),
                state.path("rng").path("seed").asLong(),
                state.path("rng").path("dropoutCounter").asLong(),
                readAll(dir.resolve(TRAINABLE_FILE)),
                sharded ? manifest.readWholeState(dir) : readAll(dir.resolve(OPTIMIZER_FILE)),
                state.path("optimizerStep").asLong(),
                scalars);
    }

    /** Deletes all but the newest {@code keep} complete checkpoints (incomplete ones are left for inspection). */
    public void prune() {
        List<Long> steps = completeSteps();
        for (int i = keep; i < steps.size(); i++) {
            Path dir = directoryOf(steps.get(i));
            try {
                // Remove the marker first, so a crash halfway leaves a directory that is visibly incomplete.
                Files.deleteIfExists(dir.resolve(COMPLETE_FILE));
                AtomicDirectory.deleteTree(dir);
            } catch (IOException e) {
                log.accept("could not delete old checkpoint " + dir + ": " + e.getMessage());
            }
        }
    }

    private static Map<String, TensorData> readAll(Path file) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (String n : r.names()) out.put(n, r.read(n));
        }
        return out;
    }

    private static JsonNode readJson(Path file) {
        try {
            JsonNode n = JSON.readTree(Files.readAllBytes(file));
            if (n == null || !n.isObject()) throw new FormatException(file, "is not a JSON object");
            return n;
        } catch (IOException e) {
            throw new FormatException(file, "unreadable or not JSON: " + e.getMessage());
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
