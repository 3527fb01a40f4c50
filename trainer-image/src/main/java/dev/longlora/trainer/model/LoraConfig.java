package dev.longlora.trainer.model;

import dev.longlora.contract.ConfigException;
import java.util.List;
import java.util.Set;

/**
 * What is trainable: LoRA adapters on chosen linear layers, optionally the token embedding and every norm
 * (LongLoRA's "LoRA+"), or everything (full fine-tuning / pretraining).
 *
 * @param rank            LoRA rank r (0 = no adapters)
 * @param alpha           LoRA alpha; adapters add {@code (alpha / r) * B (A x)}
 * @param dropout         dropout probability on the adapter input, in [0, 1)
 * @param targetModules   linear layers that get adapters: any of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
 *                        down_proj
 * @param trainEmbeddings the token embedding is trainable ({@code model.embed_tokens.weight})
 * @param trainNorms      every RMSNorm weight is trainable
 * @param fullFineTune    every base weight is trainable (adapters, if rank > 0, too)
 */
public record LoraConfig(
        int rank,
        double alpha,
        double dropout,
        List<String> targetModules,
        boolean trainEmbeddings,
        boolean trainNorms,
        boolean fullFineTune) {

    /** Linear layers an adapter can sit on. */
    public static final Set<String> KNOWN_MODULES = Set.copyOf(LlamaTensors.LINEARS);

    /** LongLoRA's default targets. */
    public static final List<String> ATTENTION_MODULES = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    public LoraConfig {
        targetModules = targetModules == null ? List.of() : List.copyOf(targetModules);
    }

    /** LongLoRA: rank 8, alpha 16 on q,k,v,o plus trainable embedding and norms. */
    public static LoraConfig longLora() {
        return new LoraConfig(8, 16, 0.0, ATTENTION_MODULES, true, true, false);
    }

    /** Plain LoRA: rank 8, alpha 16 on q,k,v,o; embedding and norms frozen. */
    public static LoraConfig plainLora() {
        return new LoraConfig(8, 16, 0.0, ATTENTION_MODULES, false, false, false);
    }

    /** Every base weight trainable, no adapters (pretraining, full fine-tuning). */
    public static LoraConfig fullFineTuning() {
        return new LoraConfig(0, 0, 0.0, List.of(), true, true, true);
    }

    /** Nothing trainable (evaluation). */
    public static LoraConfig frozen() {
        return new LoraConfig(0, 0, 0.0, List.of(), false, false, false);
    }

    /** The same with another rank and alpha. */
    public LoraConfig withRank(int newRank, double newAlpha) {
        return new LoraConfig(newRank, newAlpha, dropout, targetModules, trainEmbeddings, trainNorms, fullFineTune);
    }

    /** The same with another dropout. */
    public LoraConfig withDropout(double newDropout) {
        return new LoraConfig(rank, alpha, newDropout, targetModules, trainEmbeddings, trainNorms, fullFineTune);
    }

    /** Scale applied to the adapter path: alpha / r (0 without adapters). */
    public double scaling() {
        return rank > 0 ? alpha / rank : 0.0;
    }

    /** Whether the linear layer called {@code module} (e.g. "q_proj") carries an adapter. */
    public boolean adapts(String module) {
        return rank > 0 && targetModules.contains(module);
    }

    /** Whether any LoRA adapters exist. */
    public boolean hasAdapters() {
        return rank > 0 && !targetModules.isEmpty();
    }

    /** Checks every field and returns this; throws {@link IllegalArgumentException} naming the field and the fix. */
    public LoraConfig validate() {
        if (rank < 0) {
            throw new ConfigException("lora.rank=" + rank + " must be >= 0 (LongLoRA uses 8)");
        }
        if (rank > 0 && !(alpha > 0)) {
            throw new ConfigException(
                    "lora.alpha=" + alpha + " must be positive when lora.rank > 0 (LongLoRA uses 16)");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new ConfigException("lora.dropout=" + dropout + " must be in [0, 1)");
        }
        for (String module : targetModules) {
            if (!KNOWN_MODULES.contains(module)) {
                throw new ConfigException("lora.targetModules contains '" + module
                        + "', which is not a LLaMA linear layer: use "
                        + String.join(", ", LlamaTensors.LINEARS));
            }
        }
        if (rank > 0 && targetModules.isEmpty()) {
            throw new ConfigException(
                    "lora.rank=" + rank + " but lora.targetModules is empty: name at least one module (e.g. q_proj)");
        }
        return this;
    }
}
