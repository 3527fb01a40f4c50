package dev.longlora.contract;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory sizes as people and Kubernetes write them: {@code 80GiB}, {@code 80Gi}, {@code 80GB}, {@code 81920MiB},
 * {@code 85899345920} (bytes). Binary suffixes (Ki, Mi, Gi, Ti, with or without B) are powers of 1024, decimal ones
 * (k, M, G, T, with or without B) powers of 1000.
 */
public final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([kKMGT]i?)?B?\\s*");
    private static final double GIB = 1L << 30;

    private ByteSize() {}

    /** The bytes {@code text} names; {@code field} names it in the error (e.g. {@code --gpu-memory}). */
    public static long parse(String text, String field) {
        Matcher m = text == null ? null : SIZE.matcher(text);
        if (m == null || !m.matches()) {
            throw new ConfigException(
                    field + " '" + text + "' is not a memory size: write it like 80GiB, 80Gi, 80GB or 81920MiB");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2);
        double scale = switch (unit.toUpperCase(Locale.ROOT)) {
            case "" -> 1;
            case "K" -> 1e3;
            case "M" -> 1e6;
            case "G" -> 1e9;
            case "T" -> 1e12;
            case "KI" -> 1L << 10;
            case "MI" -> 1L << 20;
            case "GI" -> 1L << 30;
            case "TI" -> 1L << 40;
            default -> throw new IllegalStateException(unit);
        };
        double bytes = value * scale;
        if (!(bytes >= 1) || bytes > Long.MAX_VALUE) {
            throw new ConfigException(field + " '" + text + "' must be at least one byte");
        }
        return (long) bytes;
    }

    /** Bytes in GiB with two decimals, e.g. {@code 46.41 GiB}. */
    public static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / GIB);
    }
}
