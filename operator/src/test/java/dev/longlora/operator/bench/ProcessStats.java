package dev.longlora.operator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and peak resident memory of a Linux process, read from /proc.
 *
 * @param cpuSeconds user + system CPU seconds used so far
 * @param peakRssBytes the high-water mark of resident memory (VmHWM)
 */
public record ProcessStats(double cpuSeconds, long peakRssBytes) {

    /** Clock ticks per second for /proc/&lt;pid&gt;/stat; 100 on every Linux this project runs on. */
    private static final double TICKS_PER_SECOND = 100.0;

    public static ProcessStats of(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // Fields after the command name, which is parenthesised and may contain spaces.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long utime = Long.parseLong(fields[11]);
        long stime = Long.parseLong(fields[12]);
        long hwmKb = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("VmHWM:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                .findFirst()
                .orElse(0);
        return new ProcessStats((utime + stime) / TICKS_PER_SECOND, hwmKb * 1024);
    }
}
