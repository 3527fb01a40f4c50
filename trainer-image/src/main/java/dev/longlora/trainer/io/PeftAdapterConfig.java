package dev.longlora.trainer.io;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.longlora.trainer.model.LoraConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * PEFT's {@code adapter_config.json} for a LoRA adapter, the fields PEFT needs to rebuild it. LongLoRA's trainable
 * embedding and norms are listed in {@code modules_to_save}, so {@code PeftModel.from_pretrained} restores them.
 * Every norm module is named explicitly (not just "norm"): PEFT versions differ in whether a name matches as a
 * suffix or as a whole module name, and explicit names work with both.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.ALWAYS)
public record PeftAdapterConfig(
        @JsonProperty("peft_type") String peftType,
        @JsonProperty("task_type") String taskType,
        @JsonProperty("r") int r,
        @JsonProperty("lora_alpha") double loraAlpha,
        @JsonProperty("lora_dropout") double loraDropout,
        @JsonProperty("target_modules") List<String> targetModules,
        @JsonProperty("bias") String bias,
        @JsonProperty("modules_to_save") List<String> modulesToSave,
        @JsonProperty("base_model_name_or_path") String baseModelNameOrPath,
        @JsonProperty("fan_in_fan_out") boolean fanInFanOut,
        @JsonProperty("inference_mode") boolean inferenceMode,
        @JsonProperty("init_lora_weights") boolean initLoraWeights) {

    public static final String FILE_NAME = "adapter_config.json";
    public static final List<String> NORM_MODULES = List.of("input_layernorm", "post_attention_layernorm", "norm");
    public static final String EMBED_MODULE = "embed_tokens";

    public static PeftAdapterConfig of(LoraConfig lora, String baseModel) {
        List<String> save = new ArrayList<>();
        if (lora.trainEmbeddings()) save.add(EMBED_MODULE);
        if (lora.trainNorms()) save.addAll(NORM_MODULES);
        return new PeftAdapterConfig(
                "LORA",
                "CAUSAL_LM",
                lora.rank(),
                lora.alpha(),
                lora.dropout(),
                List.copyOf(lora.targetModules()),
                "none",
                save.isEmpty() ? null : save,
                baseModel,
                false,
                true,
                true);
    }

    /** The LoRA setup this adapter was trained with; the error names the field and the file's problem. */
    public LoraConfig toLoraConfig() {
        if (!"LORA".equals(peftType)) {
            throw new IllegalArgumentException("peft_type is '" + peftType + "': only LORA adapters are supported");
        }
        if (bias != null && !bias.equals("none")) {
            throw new IllegalArgumentException(
                    "bias is '" + bias + "': only adapters without bias terms (bias none) are supported");
        }
        if (fanInFanOut) {
            throw new IllegalArgumentException("fan_in_fan_out is true, which LLaMA's linear layers never use");
        }
        List<String> save = modulesToSave == null ? List.of() : modulesToSave;
        for (String m : save) {
            if (!m.equals(EMBED_MODULE) && !NORM_MODULES.contains(m)) {
                throw new IllegalArgumentException("modules_to_save contains '" + m
                        + "': only embed_tokens and the norm layers can be restored by this trainer");
            }
        }
        boolean norms = save.stream().anyMatch(NORM_MODULES::contains);
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, save.contains(EMBED_MODULE), norms, false)
                .validate();
    }
}
