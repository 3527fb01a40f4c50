package dev.longlora.trainer.demo;

/**
 * The models the demo compares at the long context (longlora-method.md section 6). All fine-tuned variants start
 * from the same pretrained model with position interpolation and train the same steps on the same data.
 */
public enum Variant {
    BASE_PI("base + PI, no fine-tuning", null, false, false),
    LONGLORA("LongLoRA: S2-Attn + LoRA + embed/norm", Attention.S2, true, true),
    NO_SHIFT("short attn, no shift + LoRA + embed/norm", Attention.NO_SHIFT, true, true),
    PLAIN_LORA("S2-Attn + plain LoRA (no embed/norm)", Attention.S2, true, false),
    FULL_ATTENTION("full attn + LoRA + embed/norm", Attention.FULL, true, true);

    /** How attention is computed while fine-tuning (evaluation always uses full causal attention). */
    public enum Attention {
        FULL,
        S2,
        NO_SHIFT
    }

    private final String label;
    private final Attention training;
    private final boolean lora;
    private final boolean embeddingsAndNorms;

    Variant(String label, Attention training, boolean lora, boolean embeddingsAndNorms) {
        this.label = label;
        this.training = training;
        this.lora = lora;
        this.embeddingsAndNorms = embeddingsAndNorms;
    }

    public String label() {
        return label;
    }

    public boolean fineTuned() {
        return training != null;
    }

    /** Attention while fine-tuning; null for the base model, which is not fine-tuned. */
    public Attention trainingAttention() {
        return training;
    }

    public boolean lora() {
        return lora;
    }

    public boolean trainsEmbeddingsAndNorms() {
        return embeddingsAndNorms;
    }
}
