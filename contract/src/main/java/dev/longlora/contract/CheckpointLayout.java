package dev.longlora.contract;

/**
 * File names under $CHECKPOINT_DIR (docs/contract.md section 5). The operator never reads the volume; the names are
 * here so the trainer, its tests and the docs agree on one spelling.
 */
public final class CheckpointLayout {
    /** A save of optimizer step N is the directory {@code step-<N>}. */
    public static final String STEP_PREFIX = "step-";
    /** Written last, with the digests of every file: a directory without it is never resumed. */
    public static final String COMPLETE_MARKER = "COMPLETE";
    /** A directory being written; renamed when complete. */
    public static final String TEMP_SUFFIX = ".tmp";

    public static final String TRAINABLE_FILE = "trainable.safetensors";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "state.json";
    /** With ZeRO 1+ on several ranks: which rank's file holds which part of the flat optimizer state. */
    public static final String OPTIMIZER_MANIFEST_FILE = "optimizer-manifest.json";
    /** Final outputs: {@code output/adapter} (PEFT) and, with spec.output.merge, {@code output/merged} (full HF). */
    public static final String OUTPUT_DIR = "output";

    public static final String ADAPTER_DIR = "adapter";
    public static final String MERGED_DIR = "merged";

    private CheckpointLayout() {}

    public static String stepDirectory(long step) {
        return STEP_PREFIX + step;
    }

    /** Rank r's part of a partitioned optimizer state. */
    public static String optimizerShardFile(int rank) {
        return "optimizer-rank-" + rank + ".safetensors";
    }
}
