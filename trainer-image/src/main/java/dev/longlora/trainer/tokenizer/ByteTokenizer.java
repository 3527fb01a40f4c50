package dev.longlora.trainer.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The tiny models' tokenizer: ids 0..255 are the UTF-8 bytes of the text, 256 is BOS and 257 is EOS, so
 * the vocabulary has 258 ids.
 */
public final class ByteTokenizer implements Tokenizer {
    public static final int BOS = 256;
    public static final int EOS = 257;
    public static final int VOCAB_SIZE = 258;
    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private ByteTokenizer() {}

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) out[i] = b[i] & 0xff;
        return out;
    }

    /** Invalid UTF-8 is replaced. */
    @Override
    public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id >= 0 && id < 256) b[n++] = (byte) id;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public int bos() {
        return BOS;
    }

    @Override
    public int eos() {
        return EOS;
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }
}
