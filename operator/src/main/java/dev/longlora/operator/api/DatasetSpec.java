package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** The training corpus, as the trainer reads it (docs/contract.md section 4, "data"). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DatasetSpec(
        @Required
        @Size(min = 1, max = 1024)
        @JsonPropertyDescription("Corpus file inside the pod, or builtin:synthetic.")
        String path,

        @Default("bin")
        @JsonPropertyDescription(
                "bin: raw little-endian token ids; text: plain text; jsonl: one {\"text\": ...} object per line; alpaca: LongAlpaca instruction/output records (prompt tokens not trained). Text formats use the model's tokenizer.json (the byte-level tokenizer for builtin models).")
        Format format,

        @Default("uint16")
        @JsonPropertyDescription("Width of a token id in a bin file; uint32 for vocabularies above 65535.")
        TokenDtype tokenDtype) {

    /** Corpus file formats. */
    public enum Format {
        @JsonProperty("bin")
        BIN,
        @JsonProperty("text")
        TEXT,
        @JsonProperty("jsonl")
        JSONL,
        @JsonProperty("alpaca")
        ALPACA
    }

    /** Token id widths of bin files. */
    public enum TokenDtype {
        @JsonProperty("uint16")
        UINT16,
        @JsonProperty("uint32")
        UINT32
    }
}
