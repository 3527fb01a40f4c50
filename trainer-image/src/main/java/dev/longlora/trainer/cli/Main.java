package dev.longlora.trainer.cli;

import dev.longlora.contract.ExitCode;
import dev.longlora.trainer.demo.DemoCommand;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code longlora}: the trainer's command line. Exit codes follow docs/contract.md section 7; expected failures
 * end with one {@code error:} line and no stack trace unless {@code --debug}.
 */
@Command(
        name = "longlora",
        mixinStandardHelpOptions = true,
        version = "longlora trainer 0.1.0",
        description =
                "LongLoRA fine-tuning: position interpolation + S2-Attn + LoRA with trainable embeddings and norms.",
        subcommands = {
            DemoCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            GradCommand.class,
            InitModelCommand.class,
            InitAdapterCommand.class,
            MergeCommand.class,
            PasskeyCommand.class,
            PlanCommand.class,
            TokenizeCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    /** The environment the commands read (the pod's rank wiring); the process's, or a test's. */
    private final Map<String, String> environment;

    private Main(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    Map<String, String> environment() {
        return environment;
    }

    /** Shared with the error reporter; set by {@code --debug} on the top command or any subcommand. */
    private final boolean[] debug = {false};

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "print stack traces of errors")
    void setDebug(boolean on) {
        debug[0] |= on;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        // Listed from the registered subcommands, so the message never falls behind the command set.
        String commands = String.join(
                ", ",
                spec.subcommands().keySet().stream()
                        .filter(c -> !c.equals("help"))
                        .toList());
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: use one of " + commands);
    }

    public static void main(String[] args) {
        int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs the command line in-process and returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, System.getenv(), out, err);
    }

    /** The same with another environment. */
    public static int run(String[] args, Map<String, String> environment, PrintWriter out, PrintWriter err) {
        Main main = new Main(environment);
        ErrorReporter reporter = new ErrorReporter(main.debug);
        CommandLine cl = new CommandLine(main);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(reporter);
        cl.setParameterExceptionHandler((ex, args1) -> {
            PrintWriter e = ex.getCommandLine().getErr();
            e.println("error: " + ex.getMessage());
            e.println("(see: longlora " + subcommandPath(ex.getCommandLine()) + "--help)");
            e.flush();
            return ExitCode.BAD_CONFIG.code();
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError oom) {
            return reporter.report(oom, err);
        }
    }

    private static String subcommandPath(CommandLine cl) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cl; c.getParent() != null; c = c.getParent()) sb.insert(0, c.getCommandName() + " ");
        return sb.toString();
    }
}
