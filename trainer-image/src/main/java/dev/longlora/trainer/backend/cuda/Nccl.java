package dev.longlora.trainer.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.longlora.contract.NodeUnfitException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * NCCL's C API through Java's FFM API, bound at run time to {@code libnccl.so.2} so that no JNI build ties the
 * trainer to one NCCL version. Search order: {@code $LONGLORA_NCCL_LIBRARY} (a file), the dynamic loader's path, and
 * the {@code nvidia/nccl/lib} folder of Python environments (the PyPI wheel {@code nvidia-nccl-cu13} the CUDA image
 * ships and PyTorch depends on). Buffers are device addresses and streams CUstream handles; every call returns
 * NCCL's status, turned into an {@link NcclException} with NCCL's own words.
 */
public final class Nccl {
    /** Where an explicit library path comes from (the CUDA image sets it). */
    public static final String LIBRARY_ENV = "LONGLORA_NCCL_LIBRARY";

    /** Length of ncclUniqueId, the opaque blob rank 0 makes and every rank needs to join. */
    public static final int UNIQUE_ID_BYTES = 128;

    static final int FLOAT32 = 7; // ncclFloat32
    static final int SUM = 0; // ncclSum
    private static final int IN_PROGRESS = 7; // ncclInProgress

    private static final MemoryLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE).withName("internal"));

    final String library;
    private final MethodHandle getVersion;
    private final MethodHandle getErrorString;
    private final MethodHandle getUniqueId;
    private final MethodHandle commInitRank;
    private final MethodHandle commDestroy;
    private final MethodHandle commAbort;
    private final MethodHandle commGetAsyncError;
    private final MethodHandle groupStart;
    private final MethodHandle groupEnd;
    private final MethodHandle allReduce;
    private final MethodHandle reduce;
    private final MethodHandle broadcast;

    private Nccl(String library, SymbolLookup lookup) {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        getVersion =
                linker.downcallHandle(lookup.findOrThrow("ncclGetVersion"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getErrorString = linker.downcallHandle(
                lookup.findOrThrow("ncclGetErrorString"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
        getUniqueId =
                linker.downcallHandle(lookup.findOrThrow("ncclGetUniqueId"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId /* by value */, int rank)
        commInitRank = linker.downcallHandle(
                lookup.findOrThrow("ncclCommInitRank"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
        commDestroy =
                linker.downcallHandle(lookup.findOrThrow("ncclCommDestroy"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commAbort =
                linker.downcallHandle(lookup.findOrThrow("ncclCommAbort"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commGetAsyncError = linker.downcallHandle(
                lookup.findOrThrow("ncclCommGetAsyncError"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        groupStart = linker.downcallHandle(lookup.findOrThrow("ncclGroupStart"), FunctionDescriptor.of(JAVA_INT));
        groupEnd = linker.downcallHandle(lookup.findOrThrow("ncclGroupEnd"), FunctionDescriptor.of(JAVA_INT));
        // ncclAllReduce(send, recv, count, datatype, op, comm, stream)
        allReduce = linker.downcallHandle(
                lookup.findOrThrow("ncclAllReduce"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        // ncclReduce(send, recv, count, datatype, op, root, comm, stream)
        reduce = linker.downcallHandle(
                lookup.findOrThrow("ncclReduce"),
                FunctionDescriptor.of(
                        JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        // ncclBroadcast(send, recv, count, datatype, root, comm, stream)
        broadcast = linker.downcallHandle(
                lookup.findOrThrow("ncclBroadcast"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }

    /**
     * Loads NCCL, or fails with {@link NodeUnfitException} naming every place it looked: a GPU node without NCCL
     * cannot take part in a multi-GPU job, and another node (or a fixed image) can.
     */
    public static Nccl load() {
        return load(candidates());
    }

    /** The first of {@code candidates} (file paths or sonames) that loads. */
    static Nccl load(List<String> candidates) {
        List<String> tried = new ArrayList<>();
        for (String candidate : candidates) {
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(candidate, Arena.global());
            } catch (IllegalArgumentException notFound) {
                tried.add(candidate);
                continue;
            }
            try {
                return new Nccl(candidate, lookup);
            } catch (RuntimeException e) {
                tried.add(candidate + " (" + e.getMessage() + ")");
            }
        }
        throw new NodeUnfitException("NCCL (libnccl.so.2) could not be loaded for multi-GPU training; tried "
                + String.join(", ", tried) + ". Set " + LIBRARY_ENV + " to the library file, or use the"
                + " longlora/trainer-cuda image, which ships it");
    }

    private static List<String> candidates() {
        Set<String> c = new LinkedHashSet<>();
        String explicit = System.getenv(LIBRARY_ENV);
        if (explicit != null && !explicit.isBlank()) {
            c.add(explicit.trim());
        }
        c.add("libnccl.so.2");
        for (String root : List.of("/opt/nvidia/lib", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu")) {
            Path p = Path.of(root, "libnccl.so.2");
            if (Files.isRegularFile(p)) c.add(p.toString());
        }
        // A Python environment's wheel (the torch venv of the tests, or a user's).
        String python = System.getenv("VIRTUAL_ENV");
        if (python != null && !python.isBlank()) {
            try (var libs = Files.newDirectoryStream(Path.of(python, "lib"), "python3*")) {
                for (Path lib : libs) {
                    Path p = lib.resolve("site-packages/nvidia/nccl/lib/libnccl.so.2");
                    if (Files.isRegularFile(p)) c.add(p.toString());
                }
            } catch (java.io.IOException | RuntimeException e) {
                // no such environment: nothing to add
            }
        }
        return List.copyOf(c);
    }

    /** NCCL's version as major*10000 + minor*100 + patch (e.g. 23203 for 2.32.3). */
    public int version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            checked("ncclGetVersion", () -> (int) getVersion.invokeExact(v));
            return v.get(JAVA_INT, 0);
        }
    }

    /** "2.32.3" from {@link #version()}. */
    public static String versionString(int code) {
        return (code / 10000) + "." + (code / 100 % 100) + "." + (code % 100);
    }

    /** A new unique id (rank 0 makes it once per communicator and sends it to every rank). */
    public byte[] uniqueId() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment id = a.allocate(UNIQUE_ID);
            checked("ncclGetUniqueId", () -> (int) getUniqueId.invokeExact(id));
            return id.toArray(JAVA_BYTE);
        }
    }

    /**
     * Joins communicator {@code id} as {@code rank} of {@code worldSize} on the CUDA device current on this thread.
     * Blocks until every rank joined (NCCL's own bootstrap); the caller bounds the wait with the rendezvous timeout.
     */
    public long commInitRank(int worldSize, byte[] id, int rank) {
        if (id.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("an NCCL unique id has " + UNIQUE_ID_BYTES + " bytes, got " + id.length);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment comm = a.allocate(ADDRESS);
            MemorySegment idValue = a.allocate(UNIQUE_ID);
            MemorySegment.copy(id, 0, idValue, JAVA_BYTE, 0, id.length);
            checked("ncclCommInitRank", () -> (int) commInitRank.invokeExact(comm, worldSize, idValue, rank));
            return comm.get(ADDRESS, 0).address();
        }
    }

    /** NCCL's error raised asynchronously on {@code comm} (a failed peer, a network error), 0 when none. */
    public int asyncError(long comm) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(JAVA_INT);
            checked("ncclCommGetAsyncError", () -> (int) commGetAsyncError.invokeExact(address(comm), r));
            int result = r.get(JAVA_INT, 0);
            return result == IN_PROGRESS ? 0 : result;
        }
    }

    public void commDestroy(long comm) {
        checked("ncclCommDestroy", () -> (int) commDestroy.invokeExact(address(comm)));
    }

    /** Ends {@code comm} without waiting for its peers: the way out of a collective a dead peer never joins. */
    public void commAbort(long comm) {
        checked("ncclCommAbort", () -> (int) commAbort.invokeExact(address(comm)));
    }

    public void groupStart() {
        checked("ncclGroupStart", () -> (int) groupStart.invokeExact());
    }

    public void groupEnd() {
        checked("ncclGroupEnd", () -> (int) groupEnd.invokeExact());
    }

    /** recv = sum over ranks of send ({@code count} floats), queued on {@code stream}. */
    public void allReduceSum(long send, long recv, long count, long comm, long stream) {
        checked("ncclAllReduce", () -> (int) allReduce.invokeExact(
                address(send), address(recv), count, FLOAT32, SUM, address(comm), address(stream)));
    }

    /** On rank {@code root} only, recv = sum over ranks of send ({@code count} floats). */
    public void reduceSum(long send, long recv, long count, int root, long comm, long stream) {
        checked("ncclReduce", () -> (int) reduce.invokeExact(
                address(send), address(recv), count, FLOAT32, SUM, root, address(comm), address(stream)));
    }

    /** Every rank's recv = root's send ({@code count} floats). */
    public void broadcast(long send, long recv, long count, int root, long comm, long stream) {
        checked("ncclBroadcast", () -> (int) broadcast.invokeExact(
                address(send), address(recv), count, FLOAT32, root, address(comm), address(stream)));
    }

    /** NCCL's words for a status code. */
    public String errorString(int status) {
        try {
            MemorySegment s = (MemorySegment) getErrorString.invokeExact(status);
            return s.equals(MemorySegment.NULL)
                    ? "status " + status
                    : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "status " + status;
        }
    }

    private static MemorySegment address(long a) {
        return MemorySegment.ofAddress(a);
    }

    /** A downcall returning NCCL's status. */
    private interface NativeCall {
        int invoke() throws Throwable;
    }

    /** Runs {@code c}; a non-success status becomes an {@link NcclException} in NCCL's words. */
    private void checked(String name, NativeCall c) {
        int status;
        try {
            status = c.invoke();
        } catch (Throwable t) {
            throw new IllegalStateException(name + " could not be called: " + t, t);
        }
        check(status, name);
    }

    private void check(int status, String call) {
        if (status != 0 && status != IN_PROGRESS) {
            throw new NcclException(call, status, errorString(status));
        }
    }
}
