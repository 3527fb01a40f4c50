package dev.longlora.trainer.cli;

import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.data.VocabularyCheck;
import dev.longlora.trainer.eval.NonFiniteLossException;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.io.PeftAdapter;
import dev.longlora.trainer.io.SafetensorsDtype;
import dev.longlora.trainer.io.SafetensorsWriter;
import dev.longlora.trainer.io.TensorData;
import dev.longlora.trainer.model.AttentionSpec;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LlamaTensors;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.parameter.Parameter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code longlora grad}: one forward/backward pass on the first window; writes the loss (in {@code __metadata__})
 * and the gradient of every trainable parameter. Embedding and norm gradients are stored under their HF names
 * ({@code model.embed_tokens.weight}, {@code model.layers.0.input_layernorm.weight}, ...), LoRA gradients under
 * PEFT's adapter keys ({@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}), so each gradient
 * sits under the name its weight has in the file it comes from.
 */
@Command(
        name = "grad",
        mixinStandardHelpOptions = true,
        description = "One forward/backward pass on the first --seq-len tokens; prints the loss and writes it with the "
                + "gradient of every trainable parameter to --out (safetensors).")
final class GradCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelWindowOptions run;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "FILE.safetensors",
            description = "where to write loss and gradients")
    Path out;

    @Option(
            names = "--lora-rank",
            paramLabel = "R",
            description = "LoRA rank without --adapter (default ${DEFAULT-VALUE})")
    int loraRank = 8;

    @Option(
            names = "--lora-alpha",
            paramLabel = "A",
            description = "LoRA alpha without --adapter (default ${DEFAULT-VALUE})")
    double loraAlpha = 16;

    @Option(
            names = "--seed",
            paramLabel = "S",
            description = "seed of the LoRA A initialisation without --adapter (default ${DEFAULT-VALUE})")
    long seed = 0;

    @Override
    public Integer call() {
        int seqLen = run.seqLen;
        AttentionSpec attn = run.attentionForWindow(null);
        LoraConfig defaultLora = LoraConfig.longLora().withRank(loraRank, loraAlpha);
        try (Backend backend = run.model.openBackend();
                LlamaModel m = run.model.load(defaultLora, backend, seed);
                TokenSource source = run.tokens.open(run.model.model)) {
            if (source.length() < seqLen) {
                throw new FormatException(
                        source.description() + ": has " + source.length() + " tokens, fewer than --seq-len " + seqLen);
            }
            int[] window = source.slice(0, seqLen);
            VocabularyCheck.require(window, 0, m.config().vocabSize(), source);
            m.zeroGrads();
            double loss = m.forwardBackward(window, window, attn);
            if (!Double.isFinite(loss)) {
                throw new NonFiniteLossException("the loss of the first window of " + source.description() + " is "
                        + loss + ": the model's weights or the adapter are broken");
            }
            Map<String, TensorData> grads = new LinkedHashMap<>();
            for (Parameter p : m.parameters().trainable()) {
                String key = LlamaTensors.isLoraFactor(p.name()) ? PeftAdapter.KEY_PREFIX + p.name() : p.name();
                grads.put(key, new TensorData(p.shape(), m.parameters().grads(p.name())));
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put("loss", Double.toString(loss));
            meta.put("seq_len", Integer.toString(seqLen));
            meta.put("attention", attn.toString());
            meta.put("rope_factor", Double.toString(m.ropeScalingFactor()));
            SafetensorsWriter.write(out, grads, meta, SafetensorsDtype.F32, false);
            var o = spec.commandLine().getOut();
            o.printf(Locale.ROOT, "loss %.8f%n", loss);
            o.printf("wrote %d gradients to %s%n", grads.size(), out);
            o.flush();
        }
        return ExitCode.OK.code();
    }
}
