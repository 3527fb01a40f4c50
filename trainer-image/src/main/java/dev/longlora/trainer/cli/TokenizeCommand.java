package dev.longlora.trainer.cli;

import dev.longlora.contract.ConfigException;
import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.data.CorpusFormat;
import dev.longlora.trainer.data.CorpusTokenizer;
import dev.longlora.trainer.data.LabelMask;
import dev.longlora.trainer.data.TokenDtype;
import dev.longlora.trainer.data.TokenStreamWriter;
import dev.longlora.trainer.io.FormatException;
import dev.longlora.trainer.tokenizer.Tokenizer;
import dev.longlora.trainer.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code longlora tokenize}: prepares text, JSONL or LongAlpaca corpora into a raw token file (.bin) that
 * {@code train} and {@code eval} memory-map; SFT data also get a label mask ({@code FILE.bin.mask}).
 */
@Command(
        name = "tokenize",
        mixinStandardHelpOptions = true,
        description = "Tokenize corpora into a .bin token file (documents joined with EOS, BOS at each start).")
final class TokenizeCommand implements Callable<Integer> {

    @Option(
            names = "--tokenizer",
            required = true,
            paramLabel = "FILE|DIR",
            description = "tokenizer.json, a model directory holding one, or builtin:byte")
    String tokenizer;

    @Option(
            names = "--input",
            required = true,
            arity = "1..*",
            paramLabel = "FILE",
            description = "corpus files, read in order")
    List<Path> inputs;

    @Option(
            names = "--format",
            paramLabel = "text|jsonl|alpaca",
            description = "corpus format (default ${DEFAULT-VALUE})")
    String format = "text";

    @Option(names = "--out", required = true, paramLabel = "FILE.bin", description = "token file to write")
    Path out;

    @Option(
            names = "--dtype",
            paramLabel = "uint16|uint32",
            description = "id width (default: uint16, or uint32 when the vocabulary exceeds 65536 ids)")
    String dtype;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        CorpusFormat corpusFormat = CorpusFormat.parse(format);
        long totalBytes = 0;
        for (Path p : inputs) {
            if (!Files.isRegularFile(p)) throw new FormatException(p, "corpus file not found");
            totalBytes += Files.size(p);
        }
        Tokenizer tok = Tokenizers.open(tokenizer);
        TokenDtype needed = TokenDtype.forVocabulary(tok.vocabSize());
        TokenDtype chosen = dtype == null ? needed : TokenDtype.parse(dtype);
        if (chosen == TokenDtype.UINT16 && needed == TokenDtype.UINT32) {
            throw new ConfigException("--dtype uint16 cannot hold the ids of " + tokenizer + " (vocabulary of "
                    + tok.vocabSize() + " ids, above 65536): use --dtype uint32 or leave --dtype out");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        long started = System.nanoTime();
        CorpusTokenizer.Summary s;
        try (ProgressBar bar = bar(totalBytes);
                TokenStreamWriter writer = new TokenStreamWriter(out, chosen, corpusFormat == CorpusFormat.ALPACA)) {
            s = new CorpusTokenizer(tok, corpusFormat).run(inputs, writer, bytes -> {
                if (bar != null) bar.stepTo(bytes);
            });
            writer.commit();
        } finally {
            if (tok instanceof AutoCloseable c) closeQuietly(c);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        stdout.printf(
                Locale.ROOT,
                "wrote %d tokens (%s) from %d %s to %s in %.1f s (%.1f MB/s of input)%n",
                s.tokens(),
                chosen.userName(),
                s.examples(),
                corpusFormat == CorpusFormat.ALPACA ? "records" : "documents",
                out,
                seconds,
                s.bytesRead() / 1e6 / Math.max(seconds, 1e-9));
        if (corpusFormat == CorpusFormat.ALPACA) {
            stdout.printf(
                    Locale.ROOT,
                    "label mask %s: %d of %d tokens trained (prompts are labelled -100)%n",
                    LabelMask.fileFor(out),
                    s.trainedTokens(),
                    s.tokens());
        }
        stdout.flush();
        return ExitCode.OK.code();
    }

    /** A bar over the input bytes on a terminal; nothing otherwise (the summary line is printed at the end). */
    private static ProgressBar bar(long totalBytes) {
        if (System.console() == null || !System.console().isTerminal()) return null;
        return new ProgressBarBuilder()
                .setTaskName("tokenize")
                .setInitialMax(totalBytes)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" MB", 1_000_000)
                .showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .build();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a tokenizer frees native memory only; nothing to report
        }
    }
}
