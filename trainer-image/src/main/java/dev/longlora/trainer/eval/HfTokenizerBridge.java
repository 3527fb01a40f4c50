package dev.longlora.trainer.eval;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.longlora.trainer.data.Tokenizer;
import dev.longlora.trainer.io.FormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model's {@code tokenizer.json} through DJL's binding of HF {@code tokenizers}, for the evaluations. BOS is what the
 * tokenizer's post-processor puts before an empty text (LLaMA-2 and -3 add one); EOS is {@code eos_token} of
 * {@code tokenizer_config.json} when present. To be replaced by the data package's tokenizer seam once it exists.
 */
final class HfTokenizerBridge implements Tokenizer {
    private final HuggingFaceTokenizer tokenizer;
    private final int bos;
    private final int eos;
    private final int vocab;

    private HfTokenizerBridge(HuggingFaceTokenizer tokenizer, int bos, int eos, int vocab) {
        this.tokenizer = tokenizer;
        this.bos = bos;
        this.eos = eos;
        this.vocab = vocab;
    }

    static Tokenizer load(Path json) {
        HuggingFaceTokenizer t;
        try {
            t = HuggingFaceTokenizer.builder().optTokenizerPath(json).optAddSpecialTokens(false).build();
        } catch (IOException | RuntimeException e) {
            throw new FormatException(json, "not a valid HF tokenizer.json: " + e.getMessage(), e);
        }
        long[] withSpecials = t.encode("", true, false).getIds();
        int bos = withSpecials.length > 0 ? (int) withSpecials[0] : -1;
        int eos = -1;
        Path config = json.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            try {
                JsonNode e = new ObjectMapper().readTree(config.toFile()).path("eos_token");
                String text = e.isTextual() ? e.asText() : e.path("content").asText("");
                if (!text.isEmpty()) {
                    long[] ids = t.encode(text, false, false).getIds();
                    if (ids.length == 1) eos = (int) ids[0];
                }
            } catch (IOException ex) {
                throw new FormatException(config, "not valid JSON: " + ex.getMessage());
            }
        }
        int vocab = 0;
        try {
            vocab = new ObjectMapper().readTree(json.toFile()).path("model").path("vocab").size();
        } catch (IOException ignored) {
            // the vocabulary size is informational here; the model's config.json decides what ids are valid
        }
        return new HfTokenizerBridge(t, bos, eos, vocab);
    }

    @Override
    public int[] encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tokenizer.decode(l, true);
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }
}
