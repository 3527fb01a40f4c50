package dev.longlora.contract;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One model of a trainer rank's peak memory for a resolved job and a model shape, shared by the trainer's
 * {@code longlora plan} and the operator's {@code MemoryFit} condition (docs/trainer.md, "Memory planner"). Every
 * term is a count of the trainer's own tensors, so the CPU backend's accounting checks the model (within 5% on small
 * configs, {@code MemoryPlannerCpuAccountingTest}); the GPU adds its dtypes, ZeRO sharding, the CUDA kernels'
 * scratch, communication buffers, the CUDA context and allocator slack.
 *
 * <p>Transient terms (the loss buffer, the attention workspace) are never live at the same moment; the plan adds them
 * anyway, so the estimate errs high by the smaller of the two.
 */
public final class MemoryPlanner {
    /** Where a rank's tensors live. */
    public enum Device {
        /** A CUDA GPU: {@code training.precision} decides the dtypes, ZeRO shards by stage. */
        GPU,
        /** The CPU backend: fp32 tensors whatever {@code training.precision} says, in the JVM's heap. */
        CPU
    }

    /** Floats of logits the CUDA fused LM head computes at once ({@code CudaBackend.LOSS_CHUNK_FLOATS}). */
    static final long CUDA_LOSS_CHUNK_FLOATS = 64L << 20;
    /** Rows of logits the CPU fused LM head computes at once ({@code CpuBackend.LOSS_CHUNK_ROWS}). */
    static final int CPU_LOSS_CHUNK_ROWS = 256;
    /** Elements of the flat fp32 gradient bucket a data-parallel GPU rank reduces at a time. */
    static final long GRADIENT_BUCKET_ELEMENTS = 64L << 20;
    /** CUDA context, cuBLAS workspace and NCCL's own buffers: about 1 GiB on an A100/H100. */
    static final long CUDA_CONTEXT_BYTES = 1L << 30;
    /** Fragmentation of a caching allocator over tensors of many sizes, as a share of the tensor terms. */
    static final double ALLOCATOR_SLACK = 0.10;

    private static final List<String> MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private MemoryPlanner() {}

    /** The plan on the job's own device: a GPU when {@code distributed.gpusPerNode > 0}, else the CPU. */
    public static MemoryPlan plan(JobConfig job, ModelShape shape) {
        return plan(job, shape, job.distributed().gpusPerNode() > 0 ? Device.GPU : Device.CPU, false);
    }

    /**
     * The plan on {@code device}. {@code fullFineTuning}: every weight trained (no LoRA; job.json has no such switch,
     * the paper's baseline is compared with it).
     */
    public static MemoryPlan plan(JobConfig job, ModelShape shape, Device device, boolean fullFineTuning) {
        shape.validate();
        boolean gpu = device == Device.GPU;
        boolean bf16 = gpu && job.training().precision().equals("bf16");
        int weightBytes = bf16 ? 2 : 4;
        int actBytes = bf16 ? 2 : 4;
        // bf16 keeps an fp32 master copy of each trainable parameter beside AdamW's two fp32 moments.
        int optimizerBytes = bf16 ? 12 : 8;
        long ranks = job.worldSize();
        int stage = job.distributed().zeroStage();
        boolean checkpointing = job.training().gradientCheckpointing();
        long t = job.context().targetLength();
        long c = shape.hiddenSize();
        long inter = shape.intermediateSize();
        long kv = shape.kvColumns();
        long heads = shape.numHeads();
        long layers = shape.numLayers();
        long vocab = shape.vocabSize();
        JobConfig.Lora lora = job.lora();
        int rank = fullFineTuning ? 0 : lora.rank();
        List<String> adapted = rank > 0 ? lora.targetModules() : List.of();
        boolean dropout = rank > 0 && lora.dropout() > 0;

        Map<String, long[]> outIn = Map.of(
                "q_proj", new long[] {c, c},
                "k_proj", new long[] {kv, c},
                "v_proj", new long[] {kv, c},
                "o_proj", new long[] {c, c},
                "gate_proj", new long[] {inter, c},
                "up_proj", new long[] {inter, c},
                "down_proj", new long[] {c, inter});
        long layerLinear = 0;
        for (String m : MODULES) layerLinear += outIn.get(m)[0] * outIn.get(m)[1];
        long loraParams = 0;
        for (String m : adapted) {
            long[] oi = outIn.get(m);
            if (oi == null)
                throw new ConfigException("lora.targetModules has unknown module '" + m + "': use " + MODULES);
            loraParams += layers * rank * (oi[0] + oi[1]);
        }
        long embed = vocab * c;
        long lmHead = shape.tieWordEmbeddings() ? 0 : vocab * c;
        long norms = (2 * layers + 1) * c;
        boolean trainEmbed = fullFineTuning || lora.trainEmbeddings();
        boolean trainNorms = fullFineTuning || lora.trainNorms();
        long trainable = loraParams
                + (trainEmbed ? embed : 0)
                + (trainNorms ? norms : 0)
                + (fullFineTuning ? layers * layerLinear + lmHead : 0);
        long frozen = (fullFineTuning ? 0 : layers * layerLinear + lmHead)
                + (trainEmbed ? 0 : embed)
                + (trainNorms ? 0 : norms);

        List<MemoryTerm> terms = new ArrayList<>();
        long paramShards = gpu && stage == 3 ? ranks : 1;
        terms.add(new MemoryTerm(
                "frozenWeights",
                frozen * weightBytes / paramShards,
                frozen + " frozen weights in " + (weightBytes == 2 ? "bf16" : "fp32")
                        + (paramShards > 1 ? ", sharded over " + ranks + " ranks (ZeRO-3)" : "")));
        terms.add(new MemoryTerm(
                "trainableParameters",
                trainable * weightBytes / paramShards,
                trainable + " trainable parameters in "
                        + (weightBytes == 2 ? "bf16 (fp32 masters: optimizerState)" : "fp32")
                        + (paramShards > 1 ? ", sharded (ZeRO-3)" : "")));
        long gradShards = gpu && stage >= 2 ? ranks : 1;
        terms.add(new MemoryTerm(
                "gradients",
                trainable * 4 / gradShards,
                "fp32 gradients of the trainable parameters"
                        + (gradShards > 1
                                ? ", sharded (ZeRO-" + stage + ")"
                                : gpu ? "" : " (the CPU backend keeps them whole at every stage)")));
        boolean offload = gpu && job.distributed().offloadOptimizer();
        long optimizerShards = stage >= 1 ? ranks : 1;
        terms.add(new MemoryTerm(
                "optimizerState",
                offload ? 0 : trainable * optimizerBytes / optimizerShards,
                offload
                        ? "AdamW state offloaded to host memory (distributed.offloadOptimizer)"
                        : "AdamW m and v" + (optimizerBytes == 12 ? " and fp32 master weights" : "") + " in fp32"
                                + (optimizerShards > 1
                                        ? ", sharded over " + ranks + " ranks (ZeRO-" + stage + ")"
                                        : "")));

        // Activations of one sequence of T tokens (a micro-batch is processed one sequence at a time).
        terms.add(new MemoryTerm(
                "layerInputs",
                (layers + 1) * t * c * actBytes,
                "the residual stream kept at every layer boundary: " + (layers + 1) + " x [T, hidden]"));
        long perLayer = layerActivationBytes(t, c, inter, kv, heads, rank, adapted, outIn, dropout, actBytes);
        long kept = checkpointing ? 1 : layers;
        terms.add(new MemoryTerm(
                "layerActivations",
                kept * perLayer,
                checkpointing
                        ? "one layer's working set (gradient checkpointing recomputes each layer in backward)"
                        : "every layer's working set, kept from forward (gradient checkpointing off)"));
        long scratch = (3 * t * c + 2 * t * kv + t * Math.max(rank, 1) + 3 * t * inter) * actBytes
                + (dropout ? (2 * t * c + t * inter) * actBytes : 0)
                // the final norm's output and statistics, dL/d(residual), dL/d(final norm output)
                + 3 * t * c * actBytes
                + 4 * t;
        terms.add(new MemoryTerm(
                "backwardScratch",
                scratch,
                "gradients of one layer's activations, shared by all layers, and of the final norm"));
        // The CUDA attention backward (FlashAttention-2-style tiles: O(T) for S2 and full alike, never [T, T] scores)
        // keeps an fp32 dq accumulator, bf16 dk and dv and a delta per head and row; fp32 activations also need bf16
        // copies of q, k, v, out and dOut for its tensor-core tiles.
        long attention = 4 * t * c + 4 * t * kv + 4 * heads * t + (bf16 ? 0 : 6 * t * c + 4 * t * kv);
        terms.add(new MemoryTerm(
                "attentionWorkspace",
                gpu ? attention : 0,
                gpu
                        ? "the attention backward's dq accumulator, dk, dv and row deltas"
                                + (bf16 ? "" : ", bf16 copies of q, k, v, out, dOut") + ": O(T) for "
                                + job.attention().pattern() + " (tiles, never [T, T] scores)"
                        : "none counted: the CPU attention's tiles are per-task scratch"));
        long lossBytes;
        if (gpu) {
            long columns = Math.min(vocab, Math.max(128, CUDA_LOSS_CHUNK_FLOATS / t));
            lossBytes = 4 * t * columns + 24 * t;
        } else {
            long chunk = Math.min(CPU_LOSS_CHUNK_ROWS, t);
            lossBytes = 4 * (2 * chunk * vocab + 2 * chunk * c);
        }
        terms.add(new MemoryTerm(
                "lossBuffer",
                lossBytes,
                "one chunk of the fused LM head's logits (never the [T, V] logits: " + ByteSize.gib(4 * t * vocab)
                        + " in fp32)"));
        long comm;
        String commWhat;
        if (ranks == 1) {
            comm = 0;
            commWhat = "none: one rank";
        } else if (gpu) {
            comm = 4 * Math.min(trainable, GRADIENT_BUCKET_ELEMENTS);
            commWhat = "the fp32 gradient bucket being reduced";
            if (stage == 3) {
                long layerParams = layerLinear + 2 * c;
                comm += 2 * layerParams * weightBytes;
                commWhat += ", and two layers' gathered weights (ZeRO-3: the layer in use and the next)";
            }
        } else {
            comm = 2 * 4 * trainable;
            commWhat = "the flat fp32 gradient and parameter buffers of the collectives";
        }
        terms.add(new MemoryTerm("commBuffers", comm, commWhat));
        if (gpu) {
            long tensors = terms.stream().mapToLong(MemoryTerm::bytes).sum();
            terms.add(new MemoryTerm("cudaContext", CUDA_CONTEXT_BYTES, "CUDA context, cuBLAS workspace, NCCL"));
            terms.add(new MemoryTerm(
                    "allocatorSlack",
                    (long) (tensors * ALLOCATOR_SLACK),
                    Math.round(ALLOCATOR_SLACK * 100) + "% of the tensors: fragmentation of the device memory pool"));
        }
        return new MemoryPlan(gpu ? "gpu" : "cpu", terms);
    }

    /** One decoder layer's training activations (the trainer's DecoderLayer.Acts), in bytes. */
    private static long layerActivationBytes(
            long t,
            long c,
            long inter,
            long kv,
            long heads,
            int rank,
            List<String> adapted,
            Map<String, long[]> outIn,
            boolean dropout,
            int actBytes) {
        // norm outputs, post-attention residual, attention output, q, attention context (4 + 2 x [T, hidden]),
        // k and v, gate, up and their SwiGLU product
        long elements = 6 * t * c + 2 * t * kv + 3 * t * inter;
        for (String m : adapted) {
            elements += t * rank + (dropout ? t * outIn.get(m)[1] : 0);
        }
        // two RMSNorm statistics per row and the attention's log-sum-exp per head and row, fp32
        return elements * actBytes + 4 * (2 * t + heads * t);
    }

    /**
     * A sentence for the plan against {@code capacityBytes} per GPU: that it fits, or by how much it does not, its
     * largest term and what to change.
     */
    public static String verdict(MemoryPlan plan, long capacityBytes, JobConfig job) {
        String sizes = ByteSize.gib(plan.perGpuBytes()) + " of " + ByteSize.gib(capacityBytes) + " per "
                + (plan.device().equals("gpu") ? "GPU" : "process");
        if (plan.fits(capacityBytes)) return "fits: " + sizes;
        MemoryTerm big = plan.largest();
        return "does not fit: " + sizes + "; the largest term is " + big.name() + " (" + ByteSize.gib(big.bytes())
                + "): " + advice(big.name(), job);
    }

    private static String advice(String term, JobConfig job) {
        int stage = job.distributed().zeroStage();
        String fewerTokens = "train fewer tokens per GPU (context.targetLength)";
        return switch (term) {
            case "frozenWeights", "trainableParameters" ->
                stage < 3
                        ? "shard the weights with distributed.zeroStage: 3"
                        : "spread the job over more GPUs (distributed.nodes)";
            case "gradients" -> stage < 2 ? "shard the gradients with distributed.zeroStage: 2" : "use more GPUs";
            case "optimizerState" ->
                stage < 1
                        ? "shard the optimizer with distributed.zeroStage: 1 or 2, or set distributed.offloadOptimizer"
                        : "move it to host memory with distributed.offloadOptimizer: true";
            case "layerActivations" ->
                job.training().gradientCheckpointing()
                        ? fewerTokens
                        : "turn training.gradientCheckpointing on, or " + fewerTokens;
            default -> fewerTokens + ", or use GPUs with more memory";
        };
    }
}
