package dev.longlora.trainer.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The trainer images of tools/build-images.sh. The module check runs in every build (jdeps, a few seconds): a new
 * dependency that needs a JDK module the jlinked runtime lacks fails here, not in a pod. The tar checks read the
 * built tars; they are tagged {@code image}, left out of the default build (which builds no image, so a CI run
 * never skips them) and run by tools/build-images.sh after it has written the tars, where a missing tar fails.
 */
class TrainerImageTest {
    /** The tag of the checks that read built tars. */
    static final String IMAGE = "image";

    private static final Path MODULE_DIR = Path.of("").toAbsolutePath();
    private static final Path ROOT = MODULE_DIR.getParent();
    private static final Set<String> TEST_ONLY = Set.of("junit", "opentest4j", "apiguardian", "-tests.jar");

    static Set<String> jlinkModules() throws IOException {
        String script = Files.readString(ROOT.resolve("tools/build-images.sh"));
        Matcher m = Pattern.compile("(?m)^TRAINER_MODULES=(\\S+)").matcher(script);
        assertTrue(m.find(), "TRAINER_MODULES in tools/build-images.sh");
        return new TreeSet<>(Arrays.asList(m.group(1).split(",")));
    }

    @Test
    void theJlinkedRuntimeHasEveryModuleJdepsFinds() throws IOException {
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            boolean testOnly =
                    entry.endsWith("test-classes") || TEST_ONLY.stream().anyMatch(entry::contains);
            if (!testOnly && entry.endsWith(".jar")) {
                classPath.add(entry);
            }
        }
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
        StringWriter out = new StringWriter();
        int rc = jdeps.run(
                new PrintWriter(out),
                new PrintWriter(out),
                "-R",
                "--ignore-missing-deps",
                "--print-module-deps",
                "--multi-release",
                "25",
                "--class-path",
                String.join(java.io.File.pathSeparator, classPath),
                MODULE_DIR.resolve("target/classes").toString());
        assertEquals(0, rc, out::toString);
        String[] lines = out.toString().strip().split("\\R");
        Set<String> needed = new TreeSet<>(Arrays.asList(lines[lines.length - 1].split(",")));
        needed.add("jdk.incubator.vector"); // --add-modules in the launcher; jdeps does not report incubator modules
        needed.add("jdk.unsupported"); // sun.misc.Signal: SIGTERM finishes the step and saves
        Set<String> missing = new TreeSet<>(needed);
        missing.removeAll(jlinkModules());
        assertTrue(missing.isEmpty(), "add " + missing + " to TRAINER_MODULES in tools/build-images.sh");
    }

    @Test
    @Tag(IMAGE)
    void cpuImageRunsTheLauncherAsUser1000FromItsOwnRuntime() throws IOException {
        Image image = image("cpu");
        assertEquals("1000:1000", image.config().path("User").asText());
        assertEquals(
                "/opt/longlora/bin/longlora",
                image.config().path("Entrypoint").path(0).asText());
        assertTrue(
                image.env().containsKey("HOME") && image.env().get("HOME").equals("/tmp"),
                image.env().toString());
        for (String path : List.of(
                "opt/java/bin/java",
                "opt/longlora/bin/longlora",
                "opt/longlora/longlora-trainer.jar",
                "bin/sh",
                "lib64/ld-linux-x86-64.so.2",
                "lib/x86_64-linux-gnu/libstdc++.so.6",
                "etc/passwd")) {
            assertTrue(image.files().contains(path), path + " in the image");
        }
        assertTrue(image.files().stream().noneMatch(f -> f.startsWith("app/")), "Jib's /app copy is filtered out");
        assertTrue(image.files().stream().noneMatch(f -> f.startsWith("opt/nvidia/")), "no CUDA libraries");
        String launcher = new String(image.read("opt/longlora/bin/longlora"), StandardCharsets.UTF_8);
        assertTrue(
                launcher.contains("--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED")
                        && launcher.contains("${LONGLORA_JAVA_OPTS:-}")
                        && launcher.contains("\"$@\""),
                launcher);
    }

    @Test
    @Tag(IMAGE)
    void cudaImageAddsCublasAndNcclAndPointsTheTrainerAtThem() throws IOException {
        Image image = image("cuda");
        for (String lib : List.of("libcublas.so.13", "libcublasLt.so.13", "libnccl.so.2")) {
            assertTrue(image.files().contains("opt/nvidia/lib/" + lib), lib);
        }
        assertEquals("/opt/nvidia/lib/libcublas.so.13", image.env().get("LONGLORA_CUBLAS"));
        assertTrue(image.env().get("LD_LIBRARY_PATH").startsWith("/opt/nvidia/lib:"));
        assertTrue(!image.env().containsKey("NVIDIA_VISIBLE_DEVICES"), "GPUs come from the device plugin only");
        assertTrue(image.files().stream().noneMatch(f -> f.endsWith("libcuda.so.1")), "the driver is the node's");
    }

    record Image(JsonNode config, Map<String, String> env, Set<String> files, Map<String, byte[]> small) {
        byte[] read(String path) {
            return small.get(path);
        }
    }

    static Image image(String variant) throws IOException {
        Path tar = MODULE_DIR.resolve("target/jib-trainer-" + variant + ".tar");
        assertTrue(
                Files.isRegularFile(tar),
                "no " + tar + ": tools/build-images.sh --only " + variant + " builds it and runs these checks");
        ObjectMapper json = new ObjectMapper();
        Map<String, byte[]> top = new HashMap<>();
        Set<String> files = new HashSet<>();
        Map<String, byte[]> small = new HashMap<>();
        try (InputStream outer = new BufferedInputStream(Files.newInputStream(tar), 1 << 16)) {
            Tar.read(outer, (name, size, in) -> {
                if (name.endsWith(".tar.gz")) {
                    // A layer: list it in place, keep only small files' bytes.
                    Tar.read(new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16), (f, n, data) -> {
                        String path = f.replaceFirst("^\\./", "").replaceFirst("^/", "");
                        files.add(path);
                        if (n < 4096) {
                            small.put(path, data.readAllBytes());
                        }
                    });
                } else if (name.endsWith(".json")) {
                    top.put(name, in.readAllBytes());
                }
            });
        }
        JsonNode manifest = json.readTree(top.get("manifest.json")).get(0);
        JsonNode config =
                json.readTree(top.get(manifest.get("Config").asText())).get("config");
        Map<String, String> env = new HashMap<>();
        config.path("Env").forEach(v -> {
            String[] kv = v.asText().split("=", 2);
            env.put(kv[0], kv.length > 1 ? kv[1] : "");
        });
        return new Image(config, env, files, small);
    }

    /** Just enough of the tar format (ustar, GNU long names, PAX paths) to list Jib's image and layer tars. */
    static final class Tar {
        interface Entry {
            void accept(String name, long size, InputStream data) throws IOException;
        }

        static void read(InputStream in, Entry entry) throws IOException {
            byte[] header = new byte[512];
            String longName = null;
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                long size = Long.parseLong(
                        field(header, 124, 12).trim().isEmpty()
                                ? "0"
                                : field(header, 124, 12).trim(),
                        8);
                char type = (char) header[156];
                String name = field(header, 0, 100);
                String prefix = field(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
                byte[] body = null;
                if (type == 'L' || type == 'x') {
                    body = in.readNBytes((int) size);
                    skipPadding(in, size);
                    if (type == 'L') {
                        longName = new String(body, StandardCharsets.UTF_8).replace("\0", "");
                    } else {
                        Matcher m = Pattern.compile("\\d+ path=([^\n]*)\n")
                                .matcher(new String(body, StandardCharsets.UTF_8));
                        if (m.find()) {
                            longName = m.group(1);
                        }
                    }
                    continue;
                }
                if (longName != null) {
                    name = longName;
                    longName = null;
                }
                BoundedInput data = new BoundedInput(in, type == '0' || type == 0 ? size : 0);
                if (type == '0' || type == 0 || type == '5' || type == '2') {
                    entry.accept(name, size, data);
                }
                data.skipRest();
                if (type == '0' || type == 0) {
                    skipPadding(in, size);
                } else if (size > 0) {
                    in.skipNBytes(size);
                    skipPadding(in, size);
                }
            }
        }

        private static void skipPadding(InputStream in, long size) throws IOException {
            long pad = (512 - size % 512) % 512;
            in.skipNBytes(pad);
        }

        private static String field(byte[] h, int off, int len) {
            int end = off;
            while (end < off + len && h[end] != 0) {
                end++;
            }
            return new String(h, off, end - off, StandardCharsets.UTF_8);
        }
    }

    /** The entry's bytes only; closing it leaves the tar stream open. */
    static final class BoundedInput extends InputStream {
        private final InputStream in;
        private long left;

        BoundedInput(InputStream in, long size) {
            this.in = in;
            this.left = size;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        void skipRest() throws IOException {
            in.skipNBytes(left);
            left = 0;
        }

        @Override
        public void close() {}
    }
}
