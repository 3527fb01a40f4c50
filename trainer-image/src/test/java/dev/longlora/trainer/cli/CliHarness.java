package dev.longlora.trainer.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs {@link Main} in-process and captures its exit code, stdout and stderr. */
record CliHarness(int code, String out, String err) {

    static CliHarness run(String... args) {
        return runWithEnv(Map.of(), args);
    }

    /** With exactly {@code env} as the environment (a pod's rank wiring, say). */
    static CliHarness runWithEnv(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliHarness(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
