package dev.longlora.trainer.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The reference Python {@code tokenizers} from tools/setup.d/40-tokenizers-reference.sh
 * ({@code LONGLORA_TOKENIZERS_PYTHON}): required under CI=true, else its absence skips with the reason.
 */
final class PythonTokenizers {
    private PythonTokenizers() {}

    static String python() {
        String p = System.getenv("LONGLORA_TOKENIZERS_PYTHON");
        if (p != null && Files.isExecutable(Path.of(p))) return p;
        String why = "LONGLORA_TOKENIZERS_PYTHON is not set to a Python with `tokenizers` "
                + "(source tools/setup.d/40-tokenizers-reference.sh)";
        if ("true".equals(System.getenv("CI"))) fail(why + "; CI=true requires the reference");
        Assumptions.abort(why);
        return null;
    }
}
