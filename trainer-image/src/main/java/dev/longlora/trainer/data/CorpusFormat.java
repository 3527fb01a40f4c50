package dev.longlora.trainer.data;

import dev.longlora.contract.ConfigException;
import java.util.Locale;

/**
 * Formats of text corpora that are tokenized: {@code text} (documents separated by blank lines), {@code jsonl}
 * (one {@code {"text": ...}} object per line, RedPajama style) and {@code alpaca} (LongAlpaca SFT records with
 * {@code instruction}, optional {@code input}, and {@code output}; only the output is trained).
 */
public enum CorpusFormat {
    TEXT,
    JSONL,
    ALPACA;

    public static CorpusFormat parse(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "text", "txt" -> TEXT;
            case "jsonl" -> JSONL;
            case "alpaca" -> ALPACA;
            default -> throw new ConfigException("corpus format '" + name + "' is unknown: use text, jsonl or alpaca");
        };
    }

    public String userName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
