package dev.longlora.trainer.data;

import dev.longlora.trainer.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Tokenizes corpus files into a {@link TokenStreamWriter}, streaming: examples are read, encoded in batches of
 * about {@link #BATCH_CHARS} characters (so a tokenizer can use its threads) and written, so memory stays bounded
 * whatever the corpus size. Every example becomes BOS + ids + EOS (documents joined with EOS, LongLoRA's packing);
 * an SFT example is encoded as prompt + answer together (as LongLoRA's supervised-fine-tune.py does) and its
 * first {@code 1 + |encode(prompt)|} tokens are masked.
 */
public final class CorpusTokenizer {
    static final int BATCH_CHARS = 1 << 20;

    private final Tokenizer tokenizer;
    private final CorpusFormat format;

    public CorpusTokenizer(Tokenizer tokenizer, CorpusFormat format) {
        this.tokenizer = tokenizer;
        this.format = format;
    }

    /** What one run wrote. */
    public record Summary(long examples, long tokens, long trainedTokens, long bytesRead) {}

    /** @param progress told the total input bytes consumed so far, after each batch */
    public Summary run(List<Path> inputs, TokenStreamWriter out, LongConsumer progress) {
        long examples = 0;
        long bytesBefore = 0;
        for (Path file : inputs) {
            try (ExampleReader reader = ExampleReader.open(file, format)) {
                List<Example> batch = new ArrayList<>();
                int chars = 0;
                Example e;
                while ((e = reader.next()) != null) {
                    batch.add(e);
                    chars += e.prompt().length() + e.completion().length();
                    if (chars >= BATCH_CHARS) {
                        examples += writeBatch(batch, out);
                        progress.accept(bytesBefore + reader.bytesRead());
                        batch.clear();
                        chars = 0;
                    }
                }
                examples += writeBatch(batch, out);
                bytesBefore += reader.bytesRead();
                progress.accept(bytesBefore);
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot read " + file + ": " + ex.getMessage(), ex);
            }
        }
        return new Summary(examples, out.tokens(), out.trainedTokens(), bytesBefore);
    }

    private int writeBatch(List<Example> batch, TokenStreamWriter out) {
        if (batch.isEmpty()) return 0;
        List<String> texts = new ArrayList<>(batch.size() * 2);
        for (Example e : batch) {
            texts.add(e.text());
            if (e.hasPrompt()) texts.add(e.prompt());
        }
        List<int[]> ids = tokenizer.encodeAll(texts);
        int k = 0;
        int head = tokenizer.bos() >= 0 ? 1 : 0;
        for (Example e : batch) {
            int[] body = ids.get(k++);
            int promptTokens = e.hasPrompt() ? head + ids.get(k++).length : 0;
            int[] doc = new int[head + body.length + 1];
            if (head == 1) doc[0] = tokenizer.bos();
            System.arraycopy(body, 0, doc, head, body.length);
            doc[doc.length - 1] = tokenizer.eos();
            out.write(doc, promptTokens);
        }
        return batch.size();
    }
}
