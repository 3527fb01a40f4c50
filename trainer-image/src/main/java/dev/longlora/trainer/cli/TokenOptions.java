package dev.longlora.trainer.cli;

import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.data.TokenSources;
import dev.longlora.trainer.tokenizer.Tokenizers;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Where the tokens come from: {@code --tokens FILE [--format bin|text|jsonl|alpaca] [--token-dtype uint16|uint32]}. */
final class TokenOptions {
    @Option(
            names = "--tokens",
            required = true,
            paramLabel = "FILE",
            description = "token file (.bin), a text/JSONL/LongAlpaca corpus (--format) or builtin:synthetic")
    String path;

    @Option(
            names = "--format",
            paramLabel = "bin|text|jsonl|alpaca",
            description =
                    "corpus format (default: text for .txt files, else bin); text formats use the model's tokenizer")
    String format;

    @Option(
            names = "--token-dtype",
            paramLabel = "uint16|uint32",
            description = "id width of .bin files (default ${DEFAULT-VALUE})")
    String tokenDtype = "uint16";

    /** Opens the tokens; a text corpus is tokenized with the model's tokenizer (tokenizer.json, or bytes for tiny models). */
    TokenSource open(String modelPath) {
        String f = format != null ? format.toLowerCase(Locale.ROOT) : path.endsWith(".txt") ? "text" : "bin";
        return TokenSources.open(path, f, TokenDtype.parse(tokenDtype), 0, () -> Tokenizers.forModel(modelPath));
    }
}
