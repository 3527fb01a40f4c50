package dev.longlora.trainer.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The trainer's packages form no cycle (docs/architecture.md lists them lowest first): a cycle means two packages
 * can only be understood, tested and changed together. Read from the sources, imports and fully qualified names
 * alike, so a dependency cannot hide in an inline name.
 */
class PackageCyclesTest {
    private static final String ROOT = "dev.longlora.trainer.";
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE =
            Pattern.compile("\\bdev\\.longlora\\.trainer\\.((?:[a-z]\\w*\\.)*[a-z]\\w*)\\.[A-Z]");

    @Test
    void trainerPackagesFormNoCycle() throws IOException {
        Map<String, Set<String>> graph = dependencies(Path.of("src/main/java/dev/longlora/trainer"));
        assertTrue(graph.size() >= 15, "packages found: " + graph.keySet());
        List<String> cycle = findCycle(graph);
        assertEquals(List.of(), cycle, "package cycle: " + String.join(" -> ", cycle));
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> graph = new TreeMap<>();
        graph.put("a", Set.of("b"));
        graph.put("b", Set.of("c"));
        graph.put("c", Set.of("a"));
        graph.put("d", Set.of("a"));
        assertEquals(List.of("a", "b", "c", "a"), findCycle(graph));
    }

    static Map<String, Set<String>> dependencies(Path sources) throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(sources)) {
            files = s.filter(p -> p.toString().endsWith(".java")).toList();
        }
        for (Path f : files) {
            String text = Files.readString(f);
            Matcher pkg = PACKAGE.matcher(text);
            if (!pkg.find() || !pkg.group(1).startsWith(ROOT)) continue;
            String from = pkg.group(1).substring(ROOT.length());
            Set<String> to = graph.computeIfAbsent(from, k -> new TreeSet<>());
            Matcher ref = REFERENCE.matcher(text);
            while (ref.find()) {
                if (!ref.group(1).equals(from)) to.add(ref.group(1));
            }
        }
        return graph;
    }

    /** The first cycle found by depth-first search, as a closed path; empty when there is none. */
    static List<String> findCycle(Map<String, Set<String>> graph) {
        Set<String> done = new TreeSet<>();
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>();
            List<String> cycle = visit(start, graph, done, path);
            if (!cycle.isEmpty()) return cycle;
        }
        return List.of();
    }

    private static List<String> visit(
            String node, Map<String, Set<String>> graph, Set<String> done, List<String> path) {
        int at = path.indexOf(node);
        if (at >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(at, path.size()));
            cycle.add(node);
            return cycle;
        }
        if (done.contains(node)) return List.of();
        path.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            List<String> cycle = visit(next, graph, done, path);
            if (!cycle.isEmpty()) return cycle;
        }
        path.removeLast();
        done.add(node);
        return List.of();
    }
}
