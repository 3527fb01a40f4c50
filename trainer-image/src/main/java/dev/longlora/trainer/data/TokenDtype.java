package dev.longlora.trainer.data;

import dev.longlora.contract.ConfigException;
import java.util.Locale;

/** Element type of a raw token file: uint16 (LongLoRA's .bin) or uint32 for vocabularies above 65535. */
public enum TokenDtype {
    UINT16(2),
    UINT32(4);

    private final int byteSize;

    TokenDtype(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    public static TokenDtype parse(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "uint16", "u16" -> UINT16;
            case "uint32", "u32" -> UINT32;
            default -> throw new ConfigException("token dtype '" + name + "' is unknown: use uint16 or uint32");
        };
    }

    /** The narrowest dtype that holds every id of a vocabulary of {@code vocabSize} ids. */
    public static TokenDtype forVocabulary(int vocabSize) {
        return vocabSize <= 0x10000 ? UINT16 : UINT32;
    }

    public String userName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
