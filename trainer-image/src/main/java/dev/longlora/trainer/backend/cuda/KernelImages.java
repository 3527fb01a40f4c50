package dev.longlora.trainer.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The compiled kernels embedded in the kernels jar (resources under {@code dev/longlora/kernels/}): which modules
 * were built, the image (cubin or PTX) that fits a device, and the entry points each module must define. Needs no
 * GPU, so the packaging can be tested anywhere.
 */
public final class KernelImages {
    static final String ROOT = "dev/longlora/kernels/";

    private final Properties properties;
    private final Map<String, List<String>> entryPoints;

    private KernelImages(Properties properties, Map<String, List<String>> entryPoints) {
        this.properties = properties;
        this.entryPoints = entryPoints;
    }

    /** Reads the kernels jar's description from the class path. */
    public static KernelImages fromClasspath() {
        Properties p = new Properties();
        try (InputStream in = resource("kernels.properties")) {
            if (in == null) {
                throw new IllegalStateException(
                        "the kernels jar (" + ROOT + "kernels.properties) is not on the class path;"
                                + " build it with mvn -pl kernels,trainer-image");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, List<String>> entries = new LinkedHashMap<>();
        if (built(p)) {
            try (InputStream in = resource("entry-points.txt")) {
                if (in == null) {
                    throw new IllegalStateException("the kernels jar lacks " + ROOT + "entry-points.txt; rebuild it");
                }
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    String[] parts = line.trim().split("\\s+");
                    if (parts.length == 2 && !parts[0].startsWith("#")) {
                        entries.computeIfAbsent(parts[0], k -> new ArrayList<>())
                                .add(parts[1]);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new KernelImages(p, entries);
    }

    private static InputStream resource(String name) {
        return KernelImages.class.getClassLoader().getResourceAsStream(ROOT + name);
    }

    private static boolean built(Properties p) {
        return "true".equals(p.getProperty("built"));
    }

    /** Whether nvcc compiled the kernels when the jar was built. */
    public boolean built() {
        return built(properties);
    }

    /** Why no kernels are present, for skip messages and errors. */
    public String notBuiltReason() {
        return "the kernels jar was built without CUDA kernels (" + properties.getProperty("reason", "unknown reason")
                + "); install nvcc with tools/setup.d/30-nvcc.sh and rebuild";
    }

    /** The nvcc version that compiled the kernels. */
    public String compilerVersion() {
        return properties.getProperty("nvcc", "none");
    }

    /** Module name to its expected entry points. */
    public Map<String, List<String>> entryPoints() {
        return entryPoints;
    }

    /** The compiled targets, e.g. sm_80, sm_90a, compute_80. */
    public List<String> targets() {
        return List.of(properties.getProperty("targets", "").split(","));
    }

    /**
     * The image file for a device of compute capability major.minor: its own cubin for sm_80-family and sm_90
     * cards, otherwise the compute_80 PTX that the driver compiles at load time.
     */
    public static String imageName(String module, int major, int minor) {
        if (major == 9 && minor == 0) {
            return module + ".sm_90a.cubin";
        }
        if (major == 8) {
            return module + ".sm_80.cubin";
        }
        if (major < 8) {
            throw new IllegalStateException("compute capability " + major + "." + minor
                    + " is too old: the kernels need sm_80 or newer (bf16 tensor cores)");
        }
        return module + ".compute_80.ptx";
    }

    /** The bytes of one image, with its entry points checked; PTX is NUL-terminated for the driver. */
    public byte[] load(String imageName) {
        if (!built()) {
            throw new IllegalStateException(notBuiltReason());
        }
        String module = imageName.substring(0, imageName.indexOf('.'));
        byte[] bytes;
        try (InputStream in = resource(imageName)) {
            if (in == null) {
                throw new IllegalStateException("the kernels jar lacks " + ROOT + imageName + "; rebuild it with nvcc");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Set<String> found = CubinSymbols.entryPoints(bytes);
        List<String> missing = new ArrayList<>(entryPoints.getOrDefault(module, List.of()));
        missing.removeAll(found);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(imageName + " lacks the kernels " + missing + "; rebuild the kernels jar");
        }
        if (imageName.endsWith(".ptx")) {
            byte[] z = new byte[bytes.length + 1];
            System.arraycopy(bytes, 0, z, 0, bytes.length);
            return z;
        }
        return bytes;
    }
}
