package dev.longlora.trainer.model;

import dev.longlora.contract.ConfigException;

/**
 * Which attention a forward pass uses (longlora-method.md section 2).
 *
 * <ul>
 *   <li>{@link Pattern#FULL}: ordinary causal attention over the whole sequence (inference, evaluation).</li>
 *   <li>{@link Pattern#S2}: shifted sparse attention: causal inside groups of G = L / groups tokens; heads
 *       [H/2, H) use segments shifted by G/2 ({@code [0,G/2), [G/2,3G/2), ..., [L-G/2,L)}), no wrap-around.</li>
 *   <li>{@link Pattern#SHORT}: the ablation "short attention without shift": every head uses the unshifted groups.</li>
 * </ul>
 *
 * @param pattern which attention
 * @param groups  number of groups per sequence for S2/SHORT (LongLoRA's default 4, i.e. group ratio 1/4); ignored
 *                for FULL
 */
public record AttentionSpec(Pattern pattern, int groups) {

    /** The attention patterns. */
    public enum Pattern {
        FULL,
        S2,
        SHORT
    }

    /** LongLoRA's default number of groups (group size ratio 1/4). */
    public static final int DEFAULT_GROUPS = 4;

    public AttentionSpec {
        if (pattern == null) {
            throw new ConfigException("attention pattern is missing: use full, s2 or short");
        }
        if (pattern != Pattern.FULL && groups < 1) {
            throw new ConfigException("attention groups=" + groups + " must be a positive integer (default 4)");
        }
    }

    /** Full causal attention. */
    public static AttentionSpec full() {
        return new AttentionSpec(Pattern.FULL, 1);
    }

    /** S2-Attn with the given number of groups. */
    public static AttentionSpec s2(int groups) {
        return new AttentionSpec(Pattern.S2, groups);
    }

    /** Grouped causal attention without the shift (the paper's ablation). */
    public static AttentionSpec shortNoShift(int groups) {
        return new AttentionSpec(Pattern.SHORT, groups);
    }

    /**
     * S2-Attn from LongLoRA's group size ratio (e.g. 0.25): groups = round(1 / ratio), which must be a whole number.
     */
    public static AttentionSpec s2FromRatio(double ratio) {
        if (!(ratio > 0 && ratio <= 1)) {
            throw new ConfigException("--group-ratio=" + ratio + " must be in (0, 1], e.g. 0.25 for 4 groups");
        }
        long groups = Math.round(1.0 / ratio);
        if (Math.abs(groups * ratio - 1.0) > 1e-9) {
            throw new ConfigException(
                    "--group-ratio=" + ratio + " is not 1/N for a whole N: use e.g. 0.25 or --groups N");
        }
        return s2((int) groups);
    }

    /**
     * Parses {@code full}, {@code s2} or {@code short} (case-insensitive) with the given number of groups.
     */
    public static AttentionSpec parse(String pattern, int groups) {
        return switch (pattern == null ? "" : pattern.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "full" -> full();
            case "s2" -> s2(groups);
            case "short" -> shortNoShift(groups);
            default ->
                throw new ConfigException("attention pattern '" + pattern + "' is unknown: use full, s2 or short");
        };
    }

    /** Tokens per attention segment at sequence length L: L for FULL, else L / groups. Call {@link #validate} first. */
    public int groupSize(int seqLen) {
        return pattern == Pattern.FULL ? seqLen : seqLen / groups;
    }

    /** Whether heads [H/2, H) use segments shifted by G/2. */
    public boolean shiftsHalfTheHeads() {
        return pattern == Pattern.S2;
    }

    /**
     * Checks that sequence length L splits into this spec's groups; throws {@link IllegalArgumentException} saying
     * which lengths work.
     */
    public void validate(int seqLen) {
        if (seqLen < 1) {
            throw new ConfigException("sequence length L=" + seqLen + " must be positive");
        }
        if (pattern == Pattern.FULL) {
            return;
        }
        if (seqLen % groups != 0) {
            throw new ConfigException("sequence length L=" + seqLen + " does not split into " + groups
                    + " groups: use a length divisible by " + groups + " (e.g. " + (seqLen / groups + 1) * groups
                    + ") or another --groups");
        }
        int g = seqLen / groups;
        if (pattern == Pattern.S2 && g % 2 != 0) {
            throw new ConfigException("sequence length L=" + seqLen + " gives group size G=" + g + " with " + groups
                    + " groups, which is odd: S2-Attn shifts half the heads by G/2, so use a length divisible by "
                    + 2 * groups);
        }
    }

    @Override
    public String toString() {
        return pattern == Pattern.FULL
                ? "full"
                : pattern.name().toLowerCase(java.util.Locale.ROOT) + "(groups=" + groups + ")";
    }
}
