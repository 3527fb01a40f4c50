package dev.longlora.trainer.merge;

import dev.longlora.contract.ConfigException;
import dev.longlora.trainer.io.SafetensorsDtype;
import java.nio.file.Path;

/**
 * What {@link ModelMerger} does.
 *
 * @param model         base HF model directory
 * @param adapter       PEFT adapter directory trained on it
 * @param out           directory to create (it must not exist unless {@code overwrite})
 * @param shardBytes    largest shard in bytes (a tensor larger than that gets a shard of its own)
 * @param dtype         stored dtype of the merged weights (F32 or BF16)
 * @param contextLength target context: written as {@code max_position_embeddings}; null keeps the base's
 * @param ropeFactor    linear PI factor for {@code rope_scaling}; null = ceil(context / base max_position_embeddings)
 *                      when a context is given, else the base's factor
 * @param overwrite     replace an existing {@code out} (atomically: the old one is removed only after the new one is complete)
 */
public record MergeOptions(
        Path model,
        Path adapter,
        Path out,
        long shardBytes,
        SafetensorsDtype dtype,
        Integer contextLength,
        Double ropeFactor,
        boolean overwrite) {
    public static final long DEFAULT_SHARD_BYTES = 2L << 30;

    public MergeOptions {
        if (shardBytes < 1) throw new ConfigException("--shard-size must be positive, got " + shardBytes);
        if (dtype == SafetensorsDtype.F16)
            throw new ConfigException("--dtype: merged weights are written as f32 or bf16");
        if (contextLength != null && contextLength < 1) {
            throw new ConfigException("--context must be a positive number of tokens, got " + contextLength);
        }
        if (ropeFactor != null && !(ropeFactor >= 1 && Double.isFinite(ropeFactor))) {
            throw new ConfigException("--rope-factor must be a number >= 1, got " + ropeFactor);
        }
    }

    /** Parses sizes like {@code 2GB}, {@code 500MB}, {@code 64KiB} or plain bytes. */
    public static long parseSize(String text) {
        String t = text.trim().toUpperCase(java.util.Locale.ROOT).replace("IB", "B");
        long unit = 1;
        for (String[] u : new String[][] {{"GB", "1073741824"}, {"MB", "1048576"}, {"KB", "1024"}, {"B", "1"}}) {
            if (t.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            double v = Double.parseDouble(t);
            if (!(v > 0)) throw new NumberFormatException();
            return (long) Math.ceil(v * unit);
        } catch (NumberFormatException e) {
            throw new ConfigException("--shard-size '" + text + "' is not a size like 2GB, 500MB or 1048576");
        }
    }
}
