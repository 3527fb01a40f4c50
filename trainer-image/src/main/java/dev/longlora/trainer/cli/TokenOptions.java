package dev.longlora.trainer.cli;

import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenSource;
import dev.longlora.trainer.data.TokenSources;
import picocli.CommandLine.Option;

import java.util.Locale;

/** Where the tokens come from: {@code --tokens FILE [--format bin|text] [--token-dtype uint16|uint32]}. */
final class TokenOptions {
    @Option(names = "--tokens", required = true, paramLabel = "FILE", description = "token file (.bin), text file (--format text) or builtin:synthetic")
    String path;

    @Option(names = "--format", paramLabel = "bin|text", description = "token file format (default: text for .txt files, else bin)")
    String format;

    @Option(names = "--token-dtype", paramLabel = "uint16|uint32", description = "id width of .bin files (default ${DEFAULT-VALUE})")
    String tokenDtype = "uint16";

    TokenSource open() {
        String f = format != null ? format.toLowerCase(Locale.ROOT) : path.endsWith(".txt") ? "text" : "bin";
        return TokenSources.open(path, f, TokenDtype.parse(tokenDtype), 0);
    }
}
