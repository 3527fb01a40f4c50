package dev.longlora.trainer.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Text to token ids and back: the byte-level tokenizer of the tiny models ({@link ByteTokenizer}), or an HF
 * {@code tokenizer.json} (LLaMA-2/3 BPE, {@link HfTokenizer}).
 */
public interface Tokenizer {

    /** Ids of {@code text}, without special tokens. */
    int[] encode(String text);

    /** Text of {@code ids}; special tokens are dropped. */
    String decode(int[] ids);

    /** Beginning-of-sequence id, or -1 when the tokenizer has none. */
    int bos();

    /** End-of-sequence id (documents are joined with it). */
    int eos();

    int vocabSize();

    /** Ids of many texts (an implementation may encode them in parallel). */
    default List<int[]> encodeAll(List<String> texts) {
        List<int[]> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(encode(t));
        return out;
    }

    /** One document ready to be joined with others: BOS (if any) + ids + EOS. */
    default int[] encodeDocument(String text) {
        int[] body = encode(text);
        int head = bos() >= 0 ? 1 : 0;
        int[] out = new int[body.length + head + 1];
        if (head == 1) out[0] = bos();
        System.arraycopy(body, 0, out, head, body.length);
        out[out.length - 1] = eos();
        return out;
    }
}
