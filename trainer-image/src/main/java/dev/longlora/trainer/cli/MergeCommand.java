package dev.longlora.trainer.cli;

import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.merge.MergeOptions;
import dev.longlora.trainer.merge.MergeResult;
import dev.longlora.trainer.merge.ModelMerger;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code longlora merge}: base model + PEFT adapter -> a full HF model directory. */
@Command(
        name = "merge",
        mixinStandardHelpOptions = true,
        description = "Folds a LoRA adapter (W + alpha/r B A) and its trained embedding and norms into the base model "
                + "and writes a full HF model directory (config.json with rope_scaling, sharded safetensors + index, "
                + "tokenizer files), atomically.")
final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "base HF model directory")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "PEFT adapter directory")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "merged model directory to create")
    Path out;

    @Option(
            names = "--shard-size",
            paramLabel = "SIZE",
            description = "largest shard, e.g. 2GB, 500MB (default ${DEFAULT-VALUE})")
    String shardSize = "2GB";

    @Option(names = "--dtype", paramLabel = "bf16|f32", description = "stored dtype (default ${DEFAULT-VALUE})")
    String dtype = "bf16";

    @Option(
            names = "--context",
            paramLabel = "N",
            description = "target context: max_position_embeddings, and the PI "
                    + "factor ceil(N / base max_position_embeddings) unless --rope-factor (default: the base config's)")
    Integer context;

    @Option(names = "--rope-factor", paramLabel = "F", description = "linear PI factor for rope_scaling")
    Double ropeFactor;

    @Option(names = "--overwrite", description = "replace an existing --out once the new directory is complete")
    boolean overwrite;

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        MergeOptions options = new MergeOptions(
                model,
                adapter,
                out,
                MergeOptions.parseSize(shardSize),
                SafetensorsDtype.parseUserName(dtype),
                context,
                ropeFactor,
                overwrite);
        MergeResult r = ModelMerger.merge(options, line -> {
            err.println(line);
            err.flush();
        });
        spec.commandLine()
                .getOut()
                .printf(
                        Locale.ROOT,
                        "wrote %s: %d tensors in %d shard(s), %.1f MB %s, rope_scaling factor %s, "
                                + "max_position_embeddings %d%s%n",
                        r.out(),
                        r.tensors(),
                        r.shards().size(),
                        r.weightBytes() / 1e6,
                        options.dtype().name().toLowerCase(Locale.ROOT),
                        r.ropeFactor(),
                        r.maxPositionEmbeddings(),
                        r.copiedFiles().isEmpty()
                                ? ", no tokenizer files in the base"
                                : ", copied " + String.join(", ", r.copiedFiles()));
        spec.commandLine().getOut().flush();
        return ExitCode.OK.code();
    }
}
