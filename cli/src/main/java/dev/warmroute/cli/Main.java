package dev.warmroute.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one executable. Each subcommand is a small class; this class only wires them, turns exceptions into one-line
 * messages (a user never sees a stack trace unless WARMROUTE_DEBUG=1) and fills option defaults from the
 * environment and a config file (see {@link ConfigDefaults}).
 */
@Command(
        name = "warmroute",
        mixinStandardHelpOptions = true,
        scope = CommandLine.ScopeType.INHERIT,
        versionProvider = VersionCommand.Provider.class,
        description = "Session-affine LLM chat serving: warm KV caches, recompute from replicated history on failover.",
        footer = {"",
                "Defaults: a flag wins over the environment (WARMROUTE_<COMMAND>_<OPTION>, e.g.",
                "WARMROUTE_WORKER_KV_CACHE_MB), which wins over a config file (--config FILE or",
                "WARMROUTE_CONFIG; lines like 'worker.kv-cache-mb = 512'), which wins over the",
                "built-in defaults shown above."},
        subcommands = {
                VersionCommand.class,
                WorkerCommand.class,
                RouterCommand.class,
                HealthCommand.class,
                MemberCommand.class,
                dev.warmroute.cli.chat.ChatCommand.class,
                dev.warmroute.cli.cluster.ClusterCommand.class,
                dev.warmroute.cli.cluster.StatusCommand.class,
                dev.warmroute.cli.cluster.DrainCommand.class,
                dev.warmroute.cli.cluster.UndrainCommand.class,
                dev.warmroute.cli.drill.DrillCommand.class,
                dev.warmroute.cli.session.SessionCommand.class,
                AuthCommand.class,
                CertCommand.class,
                GenerateCommand.class,
                BenchCommand.class,
                ModelCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--config", paramLabel = "FILE",
            description = "Config file (key = value lines, keys <command>.<option>). Also: WARMROUTE_CONFIG.")
    Path config;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code; used by main and by tests. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = newCommandLine();
        cli.setOut(out);
        cli.setErr(err);
        try {
            cli.setDefaultValueProvider(ConfigDefaults.from(System.getenv(), configFileArgument(args)));
        } catch (UserError e) {
            err.println("warmroute: " + e.getMessage());
            return 2;
        }
        return cli.execute(args);
    }

    static CommandLine newCommandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::handleFailure);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    private static int handleFailure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        if (e instanceof UserError ue) {
            err.println("warmroute " + cmd.getCommandName() + ": " + ue.getMessage());
            return ue.exitCode();
        }
        if (e instanceof IllegalArgumentException iae && iae.getMessage() != null
                && iae.getMessage().startsWith("WARMROUTE_")) {
            // A bad TLS or token setting in the environment (ClientTls): the user's to fix.
            err.println("warmroute " + cmd.getCommandName() + ": " + iae.getMessage());
            return 2;
        }
        if (e instanceof io.grpc.StatusRuntimeException sre) {
            // The server's answer (refused, unreachable, not allowed): a status to act on, not a bug of ours.
            err.println("warmroute " + cmd.getCommandName() + ": " + dev.warmroute.cluster.tls.ClientTls.describe(
                    sre.getStatus()));
            return 1;
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        err.println("warmroute " + cmd.getCommandName() + ": " + message);
        if ("1".equals(System.getenv("WARMROUTE_DEBUG"))) {
            e.printStackTrace(err);
        } else {
            err.println("(internal error; run with WARMROUTE_DEBUG=1 for the stack trace)");
        }
        return 1;
    }

    /** The --config value, found before parsing because defaults must be known when parsing starts. */
    static Path configFileArgument(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                return Path.of(args[i].substring("--config=".length()));
            }
        }
        String env = System.getenv("WARMROUTE_CONFIG");
        return env == null || env.isBlank() ? null : Path.of(env);
    }
}
