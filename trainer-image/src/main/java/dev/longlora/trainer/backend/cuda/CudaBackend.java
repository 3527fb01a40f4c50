package dev.longlora.trainer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import dev.longlora.contract.NodeUnfitException;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.backend.BackendChecks;
import dev.longlora.trainer.backend.KvCacheLayout;
import dev.longlora.trainer.backend.MatmulShape;
import dev.longlora.trainer.backend.Tensor;
import dev.longlora.trainer.dist.Collectives;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;

/**
 * The {@link Backend} on one NVIDIA GPU: fp32 tensors in device memory from a caching pool, the kernels of the
 * kernels jar (attention in bf16 with fp32 accumulation, FlashAttention-2 style with S2-Attn inside; the layer
 * kernels in fp32) launched through JCuda's driver API on one stream, and matrix products through cuBLAS (found at
 * run time through FFM) or the kernels' own fp32 GEMM when cuBLAS is absent.
 *
 * <p>Same contract as the CPU reference: backward ops accumulate into gradients; attention converts its fp32
 * inputs to bf16 for the tensor cores and accumulates its gradients back in fp32.
 */
public final class CudaBackend implements Backend {

    private final CudaDevice device;
    private final DeviceMemoryPool pool = new DeviceMemoryPool();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Optional<Cublas> cublas;
    private final String gemmNote;
    private final boolean syncEachLaunch = "1".equals(System.getenv("LONGLORA_CUDA_SYNC"));
    private int attnFwdRows = tileSize("LONGLORA_CUDA_ATTN_FWD_ROWS");
    private int attnBwdKeys = tileSize("LONGLORA_CUDA_ATTN_BWD_KEYS");
    private long bytes;
    private long peak;
    private boolean closed;

    private CudaBackend(int ordinal) {
        device = new CudaDevice(ordinal);
        KernelImages images = KernelImages.fromClasspath();
        for (String module : List.of("attention", "layers")) {
            CUmodule m = new CUmodule();
            cuModuleLoadData(m, images.load(KernelImages.imageName(module, device.ccMajor, device.ccMinor)));
            modules.put(module, m);
        }
        for (int d : new int[] {64, 128}) {
            for (int tile : new int[] {64, 128}) {
                cuFuncSetAttribute(
                        function(attnFwdKernel(d, tile)),
                        CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                        attnFwdSmem(d, tile));
                cuFuncSetAttribute(
                        function(attnBwdKernel(d, tile)),
                        CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                        attnBwdSmem(d, tile));
            }
        }
        List<String> tried = new ArrayList<>();
        cublas = Cublas.load(CudaDevice.address(device.stream), tried);
        MatmulPrecision precision = MatmulPrecision.parse(
                System.getenv().getOrDefault("LONGLORA_CUDA_MATMUL", "fp32"), "LONGLORA_CUDA_MATMUL");
        cublas.ifPresent(c -> c.setPrecision(precision));
        gemmNote = cublas.map(c -> "cuBLAS " + c.library).orElse("own fp32 GEMM; cuBLAS not found in " + tried);
    }

    /**
     * Sets how matrix products run: exact fp32, or TF32/bf16 tensor cores with fp32 accumulation. Without cuBLAS the
     * fallback GEMM is always exact fp32.
     */
    public void setMatmulPrecision(MatmulPrecision precision) {
        cublas.ifPresent(c -> c.setPrecision(precision));
    }

    /**
     * Opens device {@code ordinal}. Fails with one clear message when this machine cannot run CUDA (see
     * {@link CudaAvailability}).
     */
    public static CudaBackend open(int ordinal) {
        Optional<CudaAvailability.Unavailable> why = CudaAvailability.unavailable();
        if (why.isPresent()) {
            String message = "the CUDA backend cannot start: " + why.get().reason()
                    + "; use the CPU backend (--backend cpu) on this machine";
            // A missing GPU or driver is the node's fault (exit 12, retried elsewhere); kernels missing from the
            // build are ours (exit 1).
            if (why.get().nodeFault()) throw new NodeUnfitException(message);
            throw new IllegalStateException(message);
        }
        int visible = CudaAvailability.deviceCount();
        if (ordinal >= visible) {
            throw new NodeUnfitException("GPU " + ordinal
                    + " was asked for (one per local rank, distributed.gpusPerNode),"
                    + " but this pod sees " + visible + " GPU(s); check the node's nvidia.com/gpu allocation and"
                    + " NVIDIA_VISIBLE_DEVICES");
        }
        return new CudaBackend(ordinal);
    }

    /** NCCL between the gang's GPUs, its unique id carried by {@code host}; one rank needs no communicator. */
    @Override
    public Collectives collectivesOver(Collectives host, Duration collectiveTimeout) {
        if (host.worldSize() == 1) return host;
        return NcclCollectives.join(Nccl.load(), device, host, collectiveTimeout);
    }

    @Override
    public String name() {
        return "cuda(" + device.name + ", sm_" + device.ccMajor + device.ccMinor + ", " + gemmNote
                + cublas.map(c -> ", " + c.precision().name().toLowerCase(Locale.ROOT) + " matmul")
                        .orElse("") + ")";
    }

    /** Blocks until all queued device work is done. */
    public void synchronize() {
        device.synchronize();
    }

    /** Milliseconds of device time that {@code work} queues, measured with CUDA events (for benchmarks). */
    public float timeMillis(Runnable work) {
        return device.time(work);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.synchronize();
            pool.trim();
            for (CUmodule m : modules.values()) {
                cuModuleUnload(m);
            }
            device.close();
        }
    }

    // ---- memory -------------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(int... shape) {
        long n = BackendChecks.numel(shape);
        device.makeCurrent();
        DeviceMemoryPool.Block b = pool.acquire(4 * n);
        cuMemsetD32Async(b.pointer(), 0, n, device.stream);
        bytes += 4 * n;
        peak = Math.max(peak, bytes);
        return new CudaTensor(this, shape, n, b);
    }

    void released(CudaTensor t) {
        bytes -= 4 * t.numel();
        pool.release(t.block);
    }

    private static CudaTensor t(Tensor x) {
        if (!(x instanceof CudaTensor c)) {
            throw new IllegalArgumentException(x + " is not a tensor of the CUDA backend");
        }
        return c;
    }

    private static long a(Tensor x) {
        return t(x).address();
    }

    @Override
    public void upload(Tensor x, float[] data) {
        BackendChecks.uploadLength(x, data);
        device.makeCurrent();
        // The synchronous copy runs on the legacy stream, which orders itself after our blocking stream's work.
        cuMemcpyHtoD(t(x).block.pointer(), Pointer.to(data), 4L * data.length);
    }

    @Override
    public float[] download(Tensor x) {
        device.makeCurrent();
        float[] out = new float[Math.toIntExact(x.numel())];
        cuMemcpyDtoH(Pointer.to(out), t(x).block.pointer(), 4L * out.length);
        return out;
    }

    @Override
    public long bytesInUse() {
        return bytes;
    }

    @Override
    public long peakBytes() {
        return peak;
    }

    @Override
    public void resetPeakBytes() {
        peak = bytes;
    }

    /** Scratch device memory for the duration of one op (returned to the pool in stream order). */
    private DeviceMemoryPool.Block scratch(long nbytes) {
        return pool.acquire(Math.max(4, nbytes));
    }

    private DeviceMemoryPool.Block uploadInts(int[] values) {
        DeviceMemoryPool.Block b = scratch(4L * values.length);
        cuMemcpyHtoD(b.pointer(), Pointer.to(values), 4L * values.length);
        return b;
    }

    // ---- launching ----------------------------------------------------------------------------------------

    private CUfunction function(String name) {
        return functions.computeIfAbsent(name, n -> {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, modules.get(n.startsWith("attn_") ? "attention" : "layers"), n);
            return f;
        });
    }

    /** Launches a kernel: Integer, Long and Float arguments pass by value; device addresses pass as Long. */
    private void launch(String kernel, int gx, int gy, int gz, int block, int smem, Object... args) {
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("kernel argument " + args[i] + " of " + kernel);
            };
        }
        device.makeCurrent();
        cuLaunchKernel(function(kernel), gx, gy, gz, block, 1, 1, smem, device.stream, Pointer.to(params), null);
        if (syncEachLaunch) {
            device.synchronize(); // LONGLORA_CUDA_SYNC=1: report a failing kernel at its own launch
        }
    }

    private static int blocks(long n, int per) {
        return Math.toIntExact((n + per - 1) / per);
    }

    private void elementwise(String kernel, long n, Object... args) {
        if (n > 0) {
            launch(kernel, blocks(n, 256), 1, 1, 256, 0, args);
        }
    }

    // ---- elementwise and reductions ------------------------------------------------------------------------

    @Override
    public void copy(Tensor dst, Tensor src) {
        BackendChecks.sameSize(dst, src, "copy");
        device.makeCurrent();
        cuMemcpyDtoDAsync(t(dst).block.pointer(), t(src).block.pointer(), 4 * src.numel(), device.stream);
    }

    @Override
    public void zero(Tensor x) {
        device.makeCurrent();
        cuMemsetD32Async(t(x).block.pointer(), 0, x.numel(), device.stream);
    }

    @Override
    public void scale(Tensor x, float alpha) {
        elementwise("scale_f32", x.numel(), a(x), alpha, x.numel());
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        BackendChecks.sameSize(x, y, "axpy");
        elementwise("axpy_f32", x.numel(), alpha, a(x), a(y), x.numel());
    }

    @Override
    public double sumOfSquares(Tensor x) {
        DeviceMemoryPool.Block out = scratch(8);
        try {
            device.makeCurrent();
            cuMemsetD32Async(out.pointer(), 0, 2, device.stream);
            launch(
                    "sum_squares_f32",
                    Math.min(1024, blocks(x.numel(), 256)),
                    1,
                    1,
                    256,
                    0,
                    a(x),
                    out.address(),
                    x.numel());
            double[] r = new double[1];
            cuMemcpyDtoH(Pointer.to(r), out.pointer(), 8);
            return r[0];
        } finally {
            pool.release(out);
        }
    }

    // ---- linear algebra ------------------------------------------------------------------------------------

    @Override
    public void matmul(Tensor c, Tensor x, boolean transA, Tensor y, boolean transB, float alpha, float beta) {
        MatmulShape s = BackendChecks.matmul(c, x, transA, y, transB);
        gemm(a(c), a(x), transA, a(y), transB, s.m(), s.n(), s.k(), alpha, beta);
    }

    /** Row-major C[m,n] = alpha op(A) op(B) + beta C on raw device addresses (sub-matrices of tensors too). */
    private void gemm(
            long c, long x, boolean transA, long y, boolean transB, int m, int n, int k, float alpha, float beta) {
        device.makeCurrent();
        if (cublas.isPresent()) {
            cublas.get().sgemmRowMajor(m, n, k, x, transA, y, transB, alpha, beta, c);
        } else {
            launch(
                    "gemm_f32",
                    blocks(n, 64),
                    blocks(m, 64),
                    1,
                    256,
                    0,
                    c,
                    x,
                    y,
                    m,
                    n,
                    k,
                    transA ? 1 : 0,
                    transB ? 1 : 0,
                    alpha,
                    beta);
        }
    }

    // ---- layers --------------------------------------------------------------------------------------------

    @Override
    public void embeddingForward(Tensor out, Tensor table, int[] tokens) {
        BackendChecks.tokensInVocabulary(tokens, table.rows());
        DeviceMemoryPool.Block tok = uploadInts(tokens);
        launch("embedding_fwd", tokens.length, 1, 1, 256, 0, a(out), a(table), tok.address(), table.cols());
        pool.release(tok);
    }

    @Override
    public void embeddingBackward(Tensor dTable, Tensor dOut, int[] tokens) {
        BackendChecks.tokensInVocabulary(tokens, dTable.rows());
        DeviceMemoryPool.Block tok = uploadInts(tokens);
        launch("embedding_bwd", tokens.length, 1, 1, 256, 0, a(dTable), a(dOut), tok.address(), dTable.cols());
        pool.release(tok);
    }

    @Override
    public void rmsnormForward(Tensor out, Tensor rstd, Tensor x, Tensor w, float eps) {
        launch("rmsnorm_fwd", x.rows(), 1, 1, 256, 0, a(out), a(rstd), a(x), a(w), x.cols(), eps);
    }

    @Override
    public void rmsnormBackward(Tensor dx, Tensor dw, Tensor dOut, Tensor x, Tensor w, Tensor rstd) {
        int rows = x.rows();
        int cols = x.cols();
        launch("rmsnorm_bwd_dx", rows, 1, 1, 256, 0, a(dx), a(dOut), a(x), a(w), a(rstd), cols);
        if (dw != null) {
            launch(
                    "rmsnorm_bwd_dw",
                    blocks(cols, 256),
                    blocks(rows, 256),
                    1,
                    256,
                    0,
                    a(dw),
                    a(dOut),
                    a(x),
                    a(rstd),
                    rows,
                    cols);
        }
    }

    @Override
    public void ropeForward(Tensor x, int heads, float theta, float factor, int startPosition) {
        if (startPosition < 0) {
            throw new IllegalArgumentException("rope: start position " + startPosition + " is negative");
        }
        rope(x, heads, theta, factor, 1f);
        if (startPosition > 0) {
            rotateEveryRowBy(x, heads, theta, factor, startPosition);
        }
    }

    /**
     * Rotates every row of x as RoPE rotates position {@code position}, without a kernel that takes a position offset:
     * the angles are linear in the position, so that rotation is the product of the rotations of the powers of two in
     * {@code position}. Given factor / 2^b (exact in float), the rope kernel rotates its row 1 by exactly the angles of
     * position 2^b, so all rows, laid out as one row of rows * heads heads, are copied to row 1 of a two-row scratch
     * and rotated once per set bit. After the kernel's own rotation of row t, row t ends at the angles of position
     * start + t, rounded once per rotation (a few ulp of the rotated values more than one rotation).
     */
    private void rotateEveryRowBy(Tensor x, int heads, float theta, float factor, int position) {
        long bytes = 4 * x.numel();
        int dim = x.cols() / heads;
        DeviceMemoryPool.Block scratch = scratch(2 * bytes);
        try {
            device.makeCurrent();
            CUdeviceptr row1 = scratch.pointer().withByteOffset(bytes);
            cuMemcpyDtoDAsync(row1, t(x).block.pointer(), bytes, device.stream);
            for (int bit = 0; bit < 31; bit++) {
                if ((position & (1 << bit)) != 0) {
                    float scaled = Math.scalb(factor, -bit);
                    launch("rope", 2, 1, 1, 256, 0, scratch.address(), x.rows() * heads, dim, theta, scaled, 1f);
                }
            }
            cuMemcpyDtoDAsync(t(x).block.pointer(), row1, bytes, device.stream);
        } finally {
            pool.release(scratch);
        }
    }

    @Override
    public void ropeBackward(Tensor dx, int heads, float theta, float factor) {
        rope(dx, heads, theta, factor, -1f);
    }

    private void rope(Tensor x, int heads, float theta, float factor, float direction) {
        int dim = BackendChecks.ropeHeadDim(x, heads);
        launch("rope", x.rows(), 1, 1, 256, 0, a(x), heads, dim, theta, factor, direction);
    }

    /** Attention tile sizes from the environment: 64 (the default) or 128 (the 8-warp variants). */
    private static int tileSize(String variable) {
        String v = System.getenv().getOrDefault(variable, "64").trim();
        if (!v.equals("64") && !v.equals("128")) {
            throw new IllegalArgumentException(variable + "=" + v + " is not 64 or 128");
        }
        return Integer.parseInt(v);
    }

    /**
     * Chooses the attention kernels' tiles: query rows per forward block and keys per backward block, each 64 or
     * 128 (kernels/check/attention_check.py times both on a GPU).
     */
    public void setAttentionTiles(int forwardRows, int backwardKeys) {
        for (int v : new int[] {forwardRows, backwardKeys}) {
            if (v != 64 && v != 128) {
                throw new IllegalArgumentException("attention tile size " + v + " is not 64 or 128");
            }
        }
        attnFwdRows = forwardRows;
        attnBwdKeys = backwardKeys;
    }

    static String attnFwdKernel(int d, int rows) {
        return "attn_fwd_d" + d + (rows == 128 ? "_m128" : "");
    }

    static String attnBwdKernel(int d, int keys) {
        return "attn_bwd_d" + d + (keys == 128 ? "_n128" : "");
    }

    static int attnFwdSmem(int d, int rows) {
        return (rows + 4 * 64) * (d + 8) * 2;
    }

    static int attnBwdSmem(int d, int keys) {
        int bm = d == 128 ? 32 : 64;
        return (2 * keys + 2 * bm) * (d + 8) * 2 + bm * (keys + 8) * 2 + 2 * bm * 4;
    }

    /**
     * Head dimensions 64 and 128 run on the bf16 tensor-core kernels; any other (up to 256) on the generic fp32
     * kernels, which are exact but O(L^2 d) without tiling, meant for small models such as the demo's.
     */
    static boolean hasTensorCoreKernel(int d) {
        return d == 64 || d == 128;
    }

    /** The attention kernels' S2 arguments: group size G and the shift of heads [H/2, H). */
    private static int[] attentionShape(Tensor q, Tensor k, int heads, int kvHeads, int groupSize, boolean shiftHalf) {
        int d = BackendChecks.attentionHeadDim(q, k, heads, kvHeads, groupSize, shiftHalf);
        if (d > 256) {
            throw new IllegalArgumentException("attention: the CUDA kernels support head dimensions up to 256, not " + d
                    + "; use the CPU backend for this model");
        }
        return new int[] {q.rows(), d, groupSize, shiftHalf ? groupSize / 2 : 0};
    }

    private DeviceMemoryPool.Block toBf16(Tensor x) {
        DeviceMemoryPool.Block b = scratch(2 * x.numel());
        elementwise("f32_to_bf16", x.numel(), a(x), b.address(), x.numel());
        return b;
    }

    @Override
    public void attentionForward(
            Tensor out,
            Tensor lse,
            Tensor q,
            Tensor k,
            Tensor v,
            int heads,
            int kvHeads,
            int groupSize,
            boolean shiftHalf) {
        int[] s = attentionShape(q, k, heads, kvHeads, groupSize, shiftHalf);
        int tokens = s[0];
        int d = s[1];
        if (!hasTensorCoreKernel(d)) {
            launch(
                    "attn_generic_fwd",
                    blocks((long) tokens * heads, 4),
                    1,
                    1,
                    128,
                    0,
                    a(q),
                    a(k),
                    a(v),
                    a(out),
                    a(lse),
                    1,
                    heads,
                    kvHeads,
                    tokens,
                    d,
                    s[2],
                    s[3],
                    (float) (1.0 / Math.sqrt(d)));
            return;
        }
        DeviceMemoryPool.Block qb = toBf16(q);
        DeviceMemoryPool.Block kb = toBf16(k);
        DeviceMemoryPool.Block vb = toBf16(v);
        DeviceMemoryPool.Block ob = scratch(2 * out.numel());
        launch(
                attnFwdKernel(d, attnFwdRows),
                blocks(tokens, attnFwdRows),
                heads,
                1,
                attnFwdRows * 2,
                attnFwdSmem(d, attnFwdRows),
                qb.address(),
                kb.address(),
                vb.address(),
                ob.address(),
                a(lse),
                heads,
                kvHeads,
                tokens,
                s[2],
                s[3],
                (float) (1.0 / Math.sqrt(d)));
        elementwise("bf16_to_f32", out.numel(), ob.address(), a(out), out.numel(), 0f);
        for (DeviceMemoryPool.Block b : List.of(qb, kb, vb, ob)) {
            pool.release(b);
        }
    }

    @Override
    public void attentionBackward(
            Tensor dq,
            Tensor dk,
            Tensor dv,
            Tensor dOut,
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            int heads,
            int kvHeads,
            int groupSize,
            boolean shiftHalf) {
        int[] s = attentionShape(q, k, heads, kvHeads, groupSize, shiftHalf);
        int tokens = s[0];
        int d = s[1];
        if (!hasTensorCoreKernel(d)) {
            launch(
                    "attn_generic_bwd",
                    blocks((long) tokens * heads, 4),
                    1,
                    1,
                    128,
                    0,
                    a(q),
                    a(k),
                    a(v),
                    a(out),
                    a(dOut),
                    a(lse),
                    a(dq),
                    a(dk),
                    a(dv),
                    1,
                    heads,
                    kvHeads,
                    tokens,
                    d,
                    s[2],
                    s[3],
                    (float) (1.0 / Math.sqrt(d)));
            return;
        }
        DeviceMemoryPool.Block qb = toBf16(q);
        DeviceMemoryPool.Block kb = toBf16(k);
        DeviceMemoryPool.Block vb = toBf16(v);
        DeviceMemoryPool.Block ob = toBf16(out);
        DeviceMemoryPool.Block gb = toBf16(dOut);
        DeviceMemoryPool.Block delta = scratch(4L * heads * tokens);
        DeviceMemoryPool.Block dqAcc = scratch(4 * q.numel());
        DeviceMemoryPool.Block dkb = scratch(2 * k.numel());
        DeviceMemoryPool.Block dvb = scratch(2 * v.numel());
        long rows = (long) tokens * heads;
        launch(
                "attn_bwd_preprocess",
                blocks(rows, 4),
                1,
                1,
                128,
                0,
                ob.address(),
                gb.address(),
                delta.address(),
                dqAcc.address(),
                1,
                heads,
                tokens,
                d);
        launch(
                attnBwdKernel(d, attnBwdKeys),
                blocks(tokens, attnBwdKeys),
                kvHeads,
                1,
                attnBwdKeys * 2,
                attnBwdSmem(d, attnBwdKeys),
                qb.address(),
                kb.address(),
                vb.address(),
                gb.address(),
                a(lse),
                delta.address(),
                dqAcc.address(),
                dkb.address(),
                dvb.address(),
                heads,
                kvHeads,
                tokens,
                s[2],
                s[3],
                (float) (1.0 / Math.sqrt(d)));
        elementwise("axpy_f32", q.numel(), 1f, dqAcc.address(), a(dq), q.numel());
        elementwise("bf16_to_f32", k.numel(), dkb.address(), a(dk), k.numel(), 1f);
        elementwise("bf16_to_f32", v.numel(), dvb.address(), a(dv), v.numel(), 1f);
        for (DeviceMemoryPool.Block b : List.of(qb, kb, vb, ob, gb, delta, dqAcc, dkb, dvb)) {
            pool.release(b);
        }
    }

    /**
     * Decoding on the GPU without a kernel of its own: the keys and values go into the head-major caches through the
     * embedding kernel (a row gather), a prefill (start 0) attends only to itself and runs the training forward's
     * attention kernels, and later tokens attend to the cache through matrix products and the cross-entropy kernels'
     * row softmax (see {@link #attendToCache}).
     */
    @Override
    public void cachedAttentionForward(
            Tensor out,
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor keyCache,
            Tensor valueCache,
            int start,
            int heads,
            int kvHeads) {
        int capacity = KvCacheLayout.check(out, q, k, v, keyCache, valueCache, start, heads, kvHeads);
        int tokens = q.rows();
        int d = q.cols() / heads;
        storeInCache(keyCache, valueCache, k, v, start, capacity, kvHeads, d);
        if (start == 0) {
            try (Tensor lse = allocate(heads, tokens)) {
                attentionForward(out, lse, q, k, v, heads, kvHeads, tokens, false);
            }
            return;
        }
        attendToCache(out, q, keyCache, valueCache, start, capacity, heads, kvHeads, d);
    }

    /**
     * Writes k and v [T, Hkv*d] to positions [start, start + T) of the [Hkv, capacity, d] caches. Seen as [T * Hkv, d]
     * rows, row t * Hkv + g of k is head g of token t, and the destination of head g's T rows is contiguous, so one
     * launch of the embedding kernel (out[i] = table[index[i]]) per head gathers them there.
     */
    private void storeInCache(
            Tensor keyCache, Tensor valueCache, Tensor k, Tensor v, int start, int capacity, int kvHeads, int d) {
        int tokens = k.rows();
        int[] rows = new int[kvHeads * tokens];
        for (int g = 0; g < kvHeads; g++) {
            for (int t = 0; t < tokens; t++) {
                rows[g * tokens + t] = t * kvHeads + g;
            }
        }
        DeviceMemoryPool.Block index = uploadInts(rows);
        try {
            for (int g = 0; g < kvHeads; g++) {
                long dst = 4L * ((long) g * capacity + start) * d;
                long idx = index.address() + 4L * g * tokens;
                launch("embedding_fwd", tokens, 1, 1, 256, 0, a(keyCache) + dst, a(k), idx, d);
                launch("embedding_fwd", tokens, 1, 1, 256, 0, a(valueCache) + dst, a(v), idx, d);
            }
        } finally {
            pool.release(index);
        }
    }

    /**
     * Attention of each new query row t (position start + t) over cached positions 0..start+t, in fp32. For KV head
     * g, the query heads [g*r, (g+1)*r) of a row (r = H / Hkv) are one contiguous [r, d] block, and the head's cached
     * keys and values are contiguous [L, d] rows, so scores = scale * Q K^T and out = P V are plain matrix products;
     * the softmax of every head's score row runs through the cross-entropy kernels, which with a label that is no
     * column (-1) leave exp(x - lse) in place.
     */
    private void attendToCache(
            Tensor out,
            Tensor q,
            Tensor keyCache,
            Tensor valueCache,
            int start,
            int capacity,
            int heads,
            int kvHeads,
            int d) {
        int tokens = q.rows();
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(d));
        int[] noLabel = new int[heads];
        Arrays.fill(noLabel, -1);
        DeviceMemoryPool.Block labels = uploadInts(noLabel);
        DeviceMemoryPool.Block scores = scratch(4L * heads * (start + tokens));
        DeviceMemoryPool.Block stats = scratch(4L * 4 * heads); // run_max, run_sum, target, lse
        DeviceMemoryPool.Block loss = scratch(8L * heads);
        long runMax = stats.address();
        long runSum = runMax + 4L * heads;
        long target = runSum + 4L * heads;
        long lse = target + 4L * heads;
        try {
            for (int t = 0; t < tokens; t++) {
                int keys = start + t + 1;
                long row = 4L * t * heads * d;
                for (int g = 0; g < kvHeads; g++) {
                    long cached = 4L * g * capacity * d;
                    long qg = a(q) + row + 4L * g * group * d;
                    long sg = scores.address() + 4L * g * group * keys;
                    gemm(sg, qg, false, a(keyCache) + cached, true, group, keys, d, scale, 0f);
                }
                // The softmax's running max starts at -inf, its running sum (and the unused target) at 0.
                cuMemsetD32Async(
                        stats.pointer(), Float.floatToRawIntBits(Float.NEGATIVE_INFINITY), heads, device.stream);
                cuMemsetD32Async(stats.pointer().withByteOffset(4L * heads), 0, 2L * heads, device.stream);
                long s = scores.address();
                launch(
                        "ce_chunk_stats",
                        heads,
                        1,
                        1,
                        256,
                        0,
                        s,
                        keys,
                        keys,
                        0,
                        labels.address(),
                        runMax,
                        runSum,
                        target);
                launch(
                        "ce_finish",
                        blocks(heads, 256),
                        1,
                        1,
                        256,
                        0,
                        runMax,
                        runSum,
                        target,
                        labels.address(),
                        lse,
                        loss.address(),
                        heads);
                launch("ce_chunk_grad", heads, 1, 1, 256, 0, s, s, keys, keys, 0, labels.address(), lse, 1f);
                for (int g = 0; g < kvHeads; g++) {
                    long cached = 4L * g * capacity * d;
                    long og = a(out) + row + 4L * g * group * d;
                    long sg = scores.address() + 4L * g * group * keys;
                    gemm(og, sg, false, a(valueCache) + cached, false, group, d, keys, 1f, 0f);
                }
            }
        } finally {
            for (DeviceMemoryPool.Block b : List.of(labels, scores, stats, loss)) {
                pool.release(b);
            }
        }
    }

    @Override
    public void swigluForward(Tensor h, Tensor gate, Tensor up) {
        BackendChecks.sameSize(h, gate, "swiglu");
        elementwise("swiglu_fwd", h.numel(), a(h), a(gate), a(up), h.numel());
    }

    @Override
    public void swigluBackward(Tensor dGate, Tensor dUp, Tensor dh, Tensor gate, Tensor up) {
        BackendChecks.sameSize(dh, gate, "swiglu backward");
        elementwise("swiglu_bwd", dh.numel(), a(dGate), a(dUp), a(dh), a(gate), a(up), dh.numel());
    }

    @Override
    public void dropoutForward(Tensor out, Tensor x, float p, long seed) {
        elementwise("dropout_fwd", x.numel(), a(out), a(x), p, 1f / (1f - p), seed, x.numel());
    }

    @Override
    public void dropoutBackward(Tensor dx, Tensor dOut, float p, long seed) {
        elementwise("dropout_bwd", dOut.numel(), a(dx), a(dOut), p, 1f / (1f - p), seed, dOut.numel());
    }

    @Override
    public double crossEntropy(Tensor logits, int[] labels, Tensor dLogits, float gradScale) {
        int rows = logits.rows();
        int vocab = logits.cols();
        BackendChecks.labelsPerRow(labels, rows);
        return chunkedCrossEntropy(
                rows,
                vocab,
                labels,
                vocab,
                (v0, vc, ld) -> a(logits) + 4L * v0,
                ld -> vocab,
                dLogits == null ? null : (v0, vc, ld) -> a(dLogits) + 4L * v0,
                gradScale,
                null);
    }

    /**
     * Floats of logits the fused LM head computes at once (64 Mi floats, 256 MiB): a chunk of vocabulary columns for
     * all rows, as wide as this allows (the whole vocabulary for short sequences), at least 128 columns.
     */
    static final long LOSS_CHUNK_FLOATS = 64L << 20;

    /** The vocabulary columns per chunk of {@link #lmHeadCrossEntropy} for {@code rows} rows. */
    static int lossVocabChunk(int rows, int vocab) {
        long columns = Math.max(128, LOSS_CHUNK_FLOATS / Math.max(1, rows));
        return (int) Math.min(vocab, columns);
    }

    @Override
    public double lmHeadCrossEntropy(
            Tensor hidden, Tensor lmHead, int[] labels, Tensor dHidden, Tensor dLmHead, float gradScale) {
        return lmHeadCrossEntropy(
                hidden, lmHead, labels, dHidden, dLmHead, gradScale, lossVocabChunk(hidden.rows(), lmHead.rows()));
    }

    /**
     * Cross-entropy fused with the LM head, one vocabulary chunk at a time, so the full [T, V] logits never exist:
     * logits of a chunk = hidden [T, C] x lmHead[v0:v0+vc]^T ([V, C] weight, HF layout); an online log-sum-exp
     * over the chunks gives the loss, and a second pass recomputes each chunk's logits to add its gradient
     * g = gradScale * (softmax - onehot) as g x lmHead_chunk into dHidden and g^T x hidden into the chunk's rows of
     * dLmHead (each if non-null). Returns the summed loss over rows whose label is not -100. Peak extra memory:
     * T x vocabChunk floats.
     */
    public double lmHeadCrossEntropy(
            Tensor hidden,
            Tensor lmHead,
            int[] labels,
            Tensor dHidden,
            Tensor dLmHead,
            float gradScale,
            int vocabChunk) {
        BackendChecks.lmHead(hidden, lmHead, labels, dHidden, dLmHead);
        int rows = hidden.rows();
        int c = hidden.cols();
        int vocab = lmHead.rows();
        if (vocabChunk < 1) {
            throw new IllegalArgumentException("lm head: vocabulary chunk " + vocabChunk + " must be at least 1");
        }
        int chunk = Math.min(vocabChunk, vocab);
        boolean backward = dHidden != null || dLmHead != null;
        DeviceMemoryPool.Block buf = scratch(4L * rows * chunk);
        try {
            ChunkLogits compute = (v0, vc, ld) -> {
                gemm(buf.address(), a(hidden), false, a(lmHead) + 4L * v0 * c, true, rows, vc, c, 1f, 0f);
                return buf.address();
            };
            GradSink sink = !backward
                    ? null
                    : (v0, vc, g) -> {
                        if (dHidden != null) {
                            gemm(a(dHidden), g, false, a(lmHead) + 4L * v0 * c, false, rows, c, vc, 1f, 1f);
                        }
                        if (dLmHead != null) {
                            gemm(a(dLmHead) + 4L * v0 * c, g, true, a(hidden), false, vc, c, rows, 1f, 1f);
                        }
                    };
            return chunkedCrossEntropy(
                    rows,
                    vocab,
                    labels,
                    chunk,
                    compute,
                    vc -> vc,
                    backward ? (v0, vc, ld) -> buf.address() : null,
                    gradScale,
                    sink);
        } finally {
            pool.release(buf);
        }
    }

    /** Device address of the logits (or gradient) of vocabulary columns [v0, v0 + vc), row stride ld. */
    private interface ChunkLogits {
        long address(int v0, int vc, int ld);
    }

    private interface Stride {
        int of(int vc);
    }

    private interface GradSink {
        void accept(int v0, int vc, long gradAddress);
    }

    private double chunkedCrossEntropy(
            int rows,
            int vocab,
            int[] labels,
            int chunk,
            ChunkLogits logits,
            Stride stride,
            ChunkLogits grads,
            float gradScale,
            GradSink sink) {
        BackendChecks.labelsInVocabulary(labels, vocab);
        DeviceMemoryPool.Block lab = uploadInts(labels);
        DeviceMemoryPool.Block stats = scratch(4L * 4 * rows); // run_max, run_sum, target, lse
        DeviceMemoryPool.Block loss = scratch(8L * rows);
        long runMax = stats.address();
        long runSum = runMax + 4L * rows;
        long target = runSum + 4L * rows;
        long lse = target + 4L * rows;
        try {
            float[] init = new float[3 * rows];
            Arrays.fill(init, 0, rows, Float.NEGATIVE_INFINITY);
            cuMemcpyHtoD(stats.pointer(), Pointer.to(init), 4L * init.length);
            for (int v0 = 0; v0 < vocab; v0 += chunk) {
                int vc = Math.min(chunk, vocab - v0);
                int ld = stride.of(vc);
                launch(
                        "ce_chunk_stats",
                        rows,
                        1,
                        1,
                        256,
                        0,
                        logits.address(v0, vc, ld),
                        ld,
                        vc,
                        v0,
                        lab.address(),
                        runMax,
                        runSum,
                        target);
            }
            launch(
                    "ce_finish",
                    blocks(rows, 256),
                    1,
                    1,
                    256,
                    0,
                    runMax,
                    runSum,
                    target,
                    lab.address(),
                    lse,
                    loss.address(),
                    rows);
            if (grads != null) {
                for (int v0 = 0; v0 < vocab; v0 += chunk) {
                    int vc = Math.min(chunk, vocab - v0);
                    int ld = stride.of(vc);
                    long x = logits.address(v0, vc, ld);
                    long g = grads.address(v0, vc, ld);
                    launch("ce_chunk_grad", rows, 1, 1, 256, 0, g, x, ld, vc, v0, lab.address(), lse, gradScale);
                    if (sink != null) {
                        sink.accept(v0, vc, g);
                    }
                }
            }
            double[] perRow = new double[rows];
            cuMemcpyDtoH(Pointer.to(perRow), loss.pointer(), 8L * rows);
            double total = 0;
            for (double l : perRow) {
                total += l;
            }
            return total;
        } finally {
            pool.release(lab);
            pool.release(stats);
            pool.release(loss);
        }
    }

    @Override
    public int[] argmaxRows(Tensor x) {
        DeviceMemoryPool.Block out = scratch(4L * x.rows());
        try {
            launch("argmax_rows", x.rows(), 1, 1, 256, 0, a(x), x.cols(), out.address());
            int[] r = new int[x.rows()];
            cuMemcpyDtoH(Pointer.to(r), out.pointer(), 4L * r.length);
            return r;
        } finally {
            pool.release(out);
        }
    }

    // ---- optimizer -----------------------------------------------------------------------------------------

    @Override
    public void adamwUpdate(
            Tensor param,
            Tensor grad,
            Tensor m,
            Tensor v,
            float lr,
            float beta1,
            float beta2,
            float eps,
            float weightDecay,
            long step) {
        BackendChecks.sameSize(param, grad, "adamw");
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        elementwise(
                "adamw",
                param.numel(),
                a(param),
                a(grad),
                a(m),
                a(v),
                beta1,
                beta2,
                eps,
                (float) (lr / bc1),
                (float) Math.sqrt(bc2),
                1f - lr * weightDecay,
                param.numel());
    }
}
