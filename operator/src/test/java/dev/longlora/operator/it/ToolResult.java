package dev.longlora.operator.it;

/**
 * What a command-line tool (kubectl, helm) did: its exit code and both output streams.
 *
 * @param command the command line, for failure messages
 */
public record ToolResult(String command, int exitCode, String stdout, String stderr) {

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Everything the tool printed, for assertion messages. */
    public String describe() {
        return "`" + command + "` exited " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
}
