package dev.longlora.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.ByteSize;
import dev.longlora.contract.ConfigException;
import dev.longlora.contract.ExitCode;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.MemoryPlan;
import dev.longlora.contract.MemoryPlanner;
import dev.longlora.contract.MemoryTerm;
import dev.longlora.contract.ModelShape;
import dev.longlora.trainer.io.HfConfigJson;
import dev.longlora.trainer.load.BuiltinModels;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code longlora plan --config job.json}: the memory planner's per-GPU estimate for a job, term by term, and with
 * {@code --gpu-memory} whether it fits. Reads the model's {@code config.json} only (never the weights), so it runs
 * anywhere; where the model directory is not at hand, {@code --model-config} or the job's {@code model.name} (a
 * common LLaMA-2/3 size) gives the shape.
 */
@Command(
        name = "plan",
        mixinStandardHelpOptions = true,
        description = "Estimates the memory per GPU of a job (every term named) and whether it fits.")
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--config",
            required = true,
            paramLabel = "FILE",
            description = "the resolved job config (job.json)")
    Path config;

    @Option(
            names = "--gpu-memory",
            paramLabel = "SIZE",
            description = "memory of one GPU (or the process's memory for a CPU job), e.g. 80GiB, 80GB, 81920MiB")
    String gpuMemory;

    @Option(
            names = "--model-config",
            paramLabel = "FILE",
            description = "an HF config.json to take the model's shape from, instead of model.path's")
    Path modelConfig;

    @Option(
            names = "--device",
            paramLabel = "gpu|cpu",
            description = "plan for GPU ranks or the CPU backend (default: gpu when distributed.gpusPerNode > 0)")
    String device;

    @Option(names = "--json", description = "print a JSON object: perGpuBytes, terms (bytes by name), the verdict")
    boolean json;

    @Override
    public Integer call() throws Exception {
        JobConfig job = JobConfigJson.read(config, Map.of());
        ModelShape shape = shape(job);
        MemoryPlanner.Device where = device(job);
        MemoryPlan plan = MemoryPlanner.plan(job, shape, where, false);
        Long capacity = gpuMemory == null ? null : ByteSize.parse(gpuMemory, "--gpu-memory");
        String verdict = capacity == null ? null : MemoryPlanner.verdict(plan, capacity, job);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode doc = mapper.createObjectNode();
            doc.put("device", plan.device());
            doc.put("perGpuBytes", plan.perGpuBytes());
            ObjectNode terms = doc.putObject("terms");
            plan.termBytes().forEach(terms::put);
            if (capacity != null) {
                doc.put("gpuMemoryBytes", capacity);
                doc.put("fits", plan.fits(capacity));
                doc.put("verdict", verdict);
            }
            out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
        } else {
            out.printf(
                    Locale.ROOT,
                    "memory plan: %s, %d tokens, %s, ZeRO-%d over %d ranks, %s, checkpointing %s, on the %s%n",
                    job.model().name(),
                    job.context().targetLength(),
                    job.lora().rank() > 0 ? "LoRA r=" + job.lora().rank() : "no LoRA",
                    job.distributed().zeroStage(),
                    job.worldSize(),
                    where == MemoryPlanner.Device.GPU ? job.training().precision() : "fp32",
                    job.training().gradientCheckpointing() ? "on" : "off",
                    plan.device().toUpperCase(Locale.ROOT));
            for (MemoryTerm t : plan.terms()) {
                out.printf(Locale.ROOT, "  %-20s %12s  %s%n", t.name(), ByteSize.gib(t.bytes()), t.what());
            }
            out.printf(Locale.ROOT, "  %-20s %12s%n", "total", ByteSize.gib(plan.perGpuBytes()));
            if (verdict != null) out.println(verdict);
        }
        return ExitCode.OK.code();
    }

    /** The model's shape: --model-config, else model.path's config.json or built-in, else the known model.name. */
    private ModelShape shape(JobConfig job) {
        if (modelConfig != null) return HfConfigJson.read(modelConfig).shape();
        String path = job.model().path();
        if (BuiltinModels.isBuiltin(path)) return BuiltinModels.config(path).shape();
        Path file = Path.of(path).resolve(HfConfigJson.FILE_NAME);
        if (Files.isRegularFile(file)) return HfConfigJson.read(file).shape();
        return ModelShape.known(job.model().name())
                .orElseThrow(() -> new ConfigException("no " + file + " here and model.name '"
                        + job.model().name()
                        + "' is not a model the planner knows: give the model's config.json with --model-config"));
    }

    private MemoryPlanner.Device device(JobConfig job) {
        if (device == null) {
            return job.distributed().gpusPerNode() > 0 ? MemoryPlanner.Device.GPU : MemoryPlanner.Device.CPU;
        }
        return switch (device.toLowerCase(Locale.ROOT)) {
            case "gpu" -> MemoryPlanner.Device.GPU;
            case "cpu" -> MemoryPlanner.Device.CPU;
            default -> throw new ConfigException("--device '" + device + "' is unknown: use gpu or cpu");
        };
    }
}
