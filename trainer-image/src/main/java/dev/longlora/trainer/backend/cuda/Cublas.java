package dev.longlora.trainer.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * cuBLAS's GEMM (cublasGemmEx on fp32 operands, in the chosen {@link MatmulPrecision}) through Java's FFM API. The library is found at run time (CUDA 13's libcublas.so.13 first,
 * then 12), so the trainer works with either toolkit and needs no JCublas build for a given CUDA version.
 * Search order: $LONGLORA_CUBLAS (a file), the dynamic loader's path, CUDA install folders, and the nvidia/cu13/lib
 * or nvidia/cublas/lib folders of Python environments (PyTorch's wheels).
 */
final class Cublas {
    private static final int OP_N = 0;
    private static final int OP_T = 1;
    private static final int CUDA_R_32F = 0;
    private static final int GEMM_DEFAULT = -1;

    final String library;
    private final MethodHandle gemmEx;
    private final MemorySegment handle;
    private final MemorySegment scalars;

    private MatmulPrecision precision = MatmulPrecision.FP32;

    private Cublas(String library, SymbolLookup lookup, long stream) throws Throwable {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        MethodHandle create =
                linker.downcallHandle(lookup.findOrThrow("cublasCreate_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle setStream = linker.downcallHandle(
                lookup.findOrThrow("cublasSetStream_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // cublasGemmEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc,
        //              computeType, algo)
        gemmEx = linker.downcallHandle(
                lookup.findOrThrow("cublasGemmEx"),
                FunctionDescriptor.of(
                        JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                        JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                        JAVA_INT));
        MemorySegment out = Arena.global().allocate(ADDRESS);
        check((int) create.invokeExact(out), "cublasCreate");
        handle = out.get(ADDRESS, 0);
        check((int) setStream.invokeExact(handle, MemorySegment.ofAddress(stream)), "cublasSetStream");
        scalars = Arena.global().allocate(JAVA_FLOAT, 2);
    }

    /** cuBLAS bound to {@code stream} (a CUstream handle), or empty with the reason logged by the caller. */
    static Optional<Cublas> load(long stream, List<String> tried) {
        for (String candidate : candidates()) {
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(candidate, Arena.global());
            } catch (IllegalArgumentException notFound) {
                tried.add(candidate);
                continue;
            }
            try {
                return Optional.of(new Cublas(candidate, lookup, stream));
            } catch (Throwable e) {
                tried.add(candidate + " (" + e.getMessage() + ")");
            }
        }
        return Optional.empty();
    }

    private static List<String> candidates() {
        List<String> c = new ArrayList<>();
        String explicit = System.getenv("LONGLORA_CUBLAS");
        if (explicit != null && !explicit.isBlank()) {
            c.add(explicit);
        }
        c.add("libcublas.so.13");
        c.add("libcublas.so.12");
        List<Path> dirs = new ArrayList<>(List.of(
                Path.of("/usr/local/cuda/lib64"),
                Path.of("/usr/local/cuda/targets/x86_64-linux/lib"),
                Path.of("/usr/lib/x86_64-linux-gnu")));
        for (String root : List.of("/usr/lib", "/usr/local/lib", "/opt")) {
            dirs.addAll(pythonNvidiaDirs(Path.of(root)));
        }
        for (Path dir : dirs) {
            for (String soname : List.of("libcublas.so.13", "libcublas.so.12")) {
                Path p = dir.resolve(soname);
                if (Files.isRegularFile(p)) {
                    c.add(p.toString());
                }
            }
        }
        return c;
    }

    /**
     * .../site-packages/nvidia/{cu13,cublas}/lib folders below root (venvs under /opt sit about 8 levels down);
     * inside a site-packages folder only nvidia/ is entered, so the walk stays small.
     */
    private static List<Path> pythonNvidiaDirs(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try {
            Files.walkFileTree(root, Set.of(), 9, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    // Under /usr/lib and /usr/local/lib only the python3.* folders can hold wheels.
                    if (!root.startsWith("/opt")
                            && dir.getParent() != null
                            && dir.getParent().equals(root)
                            && !dir.getFileName().toString().startsWith("python")) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    Path parent = dir.getParent();
                    String parentName = parent == null || parent.getFileName() == null
                            ? ""
                            : parent.getFileName().toString();
                    if ((parentName.equals("site-packages") || parentName.equals("dist-packages"))
                            && !dir.getFileName().toString().equals("nvidia")) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    if (dir.endsWith(Path.of("nvidia", "cu13", "lib"))
                            || dir.endsWith(Path.of("nvidia", "cublas", "lib"))) {
                        found.add(dir);
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException | RuntimeException e) {
            return found;
        }
        return found;
    }

    /** The precision of the following products (see {@link MatmulPrecision}). */
    void setPrecision(MatmulPrecision p) {
        precision = p;
    }

    MatmulPrecision precision() {
        return precision;
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new IllegalStateException(call + " failed with cuBLAS status " + status);
        }
    }

    /**
     * Row-major C[m,n] = alpha * op(A) op(B) + beta * C on device addresses. cuBLAS is column-major, so this computes
     * C^T = op(B)^T op(A)^T, which reads the same memory with the operands swapped.
     */
    void sgemmRowMajor(
            int m, int n, int k, long a, boolean transA, long b, boolean transB, float alpha, float beta, long c) {
        scalars.setAtIndex(JAVA_FLOAT, 0, alpha);
        scalars.setAtIndex(JAVA_FLOAT, 1, beta);
        int status;
        try {
            status = (int) gemmEx.invokeExact(
                    handle,
                    transB ? OP_T : OP_N,
                    transA ? OP_T : OP_N,
                    n,
                    m,
                    k,
                    scalars,
                    MemorySegment.ofAddress(b),
                    CUDA_R_32F,
                    transB ? k : n,
                    MemorySegment.ofAddress(a),
                    CUDA_R_32F,
                    transA ? m : k,
                    scalars.asSlice(4),
                    MemorySegment.ofAddress(c),
                    CUDA_R_32F,
                    n,
                    precision.cublasComputeType,
                    GEMM_DEFAULT);
        } catch (Throwable e) {
            throw new IllegalStateException("cublasGemmEx call failed", e);
        }
        check(status, "cublasGemmEx (" + precision + ")");
    }
}
