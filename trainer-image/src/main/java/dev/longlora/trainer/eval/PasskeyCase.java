package dev.longlora.trainer.eval;

/**
 * One passkey-retrieval prompt.
 *
 * @param tokens        the prompt's token ids (BOS first when the tokenizer has one), at most the requested length
 * @param key           the hidden number, 1..50000
 * @param depth         where the key line sits in the filler: 0 = first, 1 = last
 * @param fillerBefore  filler sentences groups before the key line
 * @param fillerAfter   filler sentence groups after it
 */
public record PasskeyCase(int[] tokens, int key, double depth, int fillerBefore, int fillerAfter) {
    /** The text a correct model continues the prompt with (without the leading space). */
    public String answer() {
        return Integer.toString(key);
    }
}
