package dev.longlora.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.backend.Backend;
import dev.longlora.trainer.eval.PasskeyLengthResult;
import dev.longlora.trainer.eval.PasskeyRetrieval;
import dev.longlora.trainer.eval.PasskeyTrial;
import dev.longlora.trainer.model.LlamaModel;
import dev.longlora.trainer.model.LoraConfig;
import dev.longlora.trainer.tokenizer.Tokenizer;
import dev.longlora.trainer.tokenizer.Tokenizers;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code longlora passkey}: LongLoRA's passkey-retrieval accuracy per context length. */
@Command(
        name = "passkey",
        mixinStandardHelpOptions = true,
        description = "Passkey retrieval (LongLoRA): a random key (1..50000) hidden at a random depth in filler text; "
                + "greedy decoding with a KV cache on the chosen backend; exact match; accuracy per length.")
final class PasskeyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(
            names = "--lengths",
            required = true,
            split = ",",
            paramLabel = "N,N,...",
            description = "prompt lengths in tokens")
    int[] lengths;

    @Option(names = "--trials", paramLabel = "N", description = "prompts per length (default ${DEFAULT-VALUE})")
    int trials = 10;

    @Option(names = "--seed", description = "seed of keys and depths (default ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--json", description = "print one JSON object with the accuracy per length and every trial")
    boolean json;

    @Override
    public Integer call() throws Exception {
        int[] unique = Arrays.stream(lengths).distinct().toArray();
        PrintWriter err = spec.commandLine().getErr();
        try (Backend backend = model.openBackend();
                LlamaModel m = model.load(LoraConfig.frozen(), backend, 0)) {
            Tokenizer tokenizer = Tokenizers.forModel(model.model);
            int total = unique.length * trials;
            int[] done = {0};
            List<PasskeyTrial> trialsRun = PasskeyRetrieval.run(m, tokenizer, unique, trials, seed, t -> {
                done[0]++;
                err.printf(
                        Locale.ROOT,
                        "passkey %d/%d  length %d  key %d  depth %.2f  -> %s%s%n",
                        done[0],
                        total,
                        t.length(),
                        t.key(),
                        t.depth(),
                        t.generated().isEmpty() ? "(nothing)" : "'" + printable(t.generated()) + "'",
                        t.correct() ? "  ok" : "");
                err.flush();
            });
            List<PasskeyLengthResult> results = PasskeyRetrieval.summarize(unique, trialsRun);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode o = mapper.createObjectNode();
                o.put("model", model.model);
                o.put("adapter", model.adapter == null ? null : model.adapter.toString());
                o.put("ropeFactor", m.ropeScalingFactor());
                o.put("trialsPerLength", trials);
                o.put("seed", seed);
                ArrayNode per = o.putArray("lengths");
                for (PasskeyLengthResult r : results) {
                    per.addObject()
                            .put("length", r.length())
                            .put("trials", r.trials())
                            .put("correct", r.correct())
                            .put("accuracy", r.accuracy())
                            .put("meanPromptTokens", r.meanPromptTokens());
                }
                ArrayNode all = o.putArray("trials");
                for (PasskeyTrial t : trialsRun) {
                    all.addObject()
                            .put("length", t.length())
                            .put("promptTokens", t.promptTokens())
                            .put("key", t.key())
                            .put("depth", t.depth())
                            .put("generated", t.generated())
                            .put("correct", t.correct());
                }
                out.println(o);
            } else {
                out.printf(Locale.ROOT, "%8s  %13s  %7s  %8s%n", "length", "prompt tokens", "correct", "accuracy");
                for (PasskeyLengthResult r : results) {
                    out.printf(
                            Locale.ROOT,
                            "%8d  %13d  %3d/%-3d  %7.1f%%%n",
                            r.length(),
                            r.meanPromptTokens(),
                            r.correct(),
                            r.trials(),
                            100 * r.accuracy());
                }
            }
            out.flush();
            if (tokenizer instanceof AutoCloseable c) c.close();
        }
        return ExitCode.OK.code();
    }

    /** Control characters and undecodable bytes of a wrong answer shown as '?', so the log stays one line. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.append(Character.isISOControl(c) || c == 0xFFFD ? "?" : Character.toString(c)));
        return b.toString();
    }
}
