package dev.longlora.trainer.data;

/**
 * Text to token ids and back. The byte-level tokenizer of the tiny models implements it now; HF
 * {@code tokenizer.json} tokenizers (LLaMA-2/3 BPE) plug in here with the real-data work.
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
