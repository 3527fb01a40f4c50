package dev.longlora.trainer.data;

import java.nio.charset.StandardCharsets;

/**
 * The tiny models' tokenizer: ids 0..255 are the UTF-8 bytes of the text, 256 is BOS and 257 is EOS, so
 * the vocabulary has 258 ids. Real models bring their own tokenizer (a later seam).
 */
public final class ByteTokenizer {
    public static final int BOS = 256;
    public static final int EOS = 257;
    public static final int VOCAB_SIZE = 258;

    private ByteTokenizer() {
    }

    /** The bytes of {@code text}, without specials. */
    public static int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) out[i] = b[i] & 0xff;
        return out;
    }

    /** BOS + bytes + EOS: one document ready to be joined with others. */
    public static int[] encodeDocument(String text) {
        int[] body = encode(text);
        int[] out = new int[body.length + 2];
        out[0] = BOS;
        System.arraycopy(body, 0, out, 1, body.length);
        out[out.length - 1] = EOS;
        return out;
    }

    /** Text of the byte ids; specials are dropped, invalid UTF-8 is replaced. */
    public static String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id >= 0 && id < 256) b[n++] = (byte) id;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
