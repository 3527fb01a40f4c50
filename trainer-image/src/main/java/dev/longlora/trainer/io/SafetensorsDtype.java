package dev.longlora.trainer.io;

import java.util.Arrays;
import java.util.Optional;

/** The safetensors element types this project reads (as fp32) and writes. */
public enum SafetensorsDtype {
    F32(4),
    BF16(2),
    F16(2);

    private final int byteSize;

    SafetensorsDtype(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    /** The dtype spelled as in a safetensors header, or empty if this project cannot read it. */
    public static Optional<SafetensorsDtype> fromHeader(String name) {
        return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
    }

    /** Parses a user-facing spelling (fp32, f32, bf16, f16, fp16). */
    public static SafetensorsDtype parseUserName(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "f32", "fp32", "float32" -> F32;
            case "bf16", "bfloat16" -> BF16;
            case "f16", "fp16", "float16" -> F16;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "' (use fp32, bf16 or fp16)");
        };
    }
}
