package dev.warmroute.cluster;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine;

/**
 * The main class of every server JVM that tests, drills, benchmarks and {@code cluster up} start
 * ({@code ServerMain worker FLAGS}, {@code ServerMain router FLAGS}; see {@code launch.LocalCluster}): it parses the
 * role's flags, starts the server and serves until SIGTERM (graceful stop) or the launcher's end
 * ({@link ServiceProcess}). The roles are found with {@link ServiceLoader}: the worker and the router modules each
 * provide one, so this module, below both, starts either without depending on them, and {@code warmroute worker} /
 * {@code warmroute router} run the same role in the cli's JVM.
 */
public final class ServerMain {

    /**
     * A kind of server: its name, its flags (a picocli mixin object) and how a server is started from them.
     *
     * @param <O> the flags, e.g. the worker's {@code WorkerOptions}
     */
    public interface Role<O> {
        /** "worker" or "router": the first argument of {@link #main}, and the name in logs and messages. */
        String name();

        /** A fresh object with the role's picocli options and their defaults. */
        O newOptions();

        /** Starts the server the flags describe; IllegalArgumentException naming the flag for a bad value. */
        Started start(O options, PrometheusRegistry registry) throws Exception;
    }

    /** A started server: its id for logs, how to stop it, and whose end it outlives not (0: none). */
    public record Started(String id, ServiceProcess.Server server, long parentPid) {}

    private ServerMain() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: ServerMain " + String.join("|", names()) + " [FLAGS]");
            System.exit(2);
        }
        Role<?> role = role(args[0]);
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        ServiceProcess.exitOnFailure(execute(role, rest));
    }

    /** Parses {@code args} as {@code role}'s flags and serves; the exit status (ServiceProcess's rules). */
    static <O> int execute(Role<O> role, String[] args) {
        O options = role.newOptions();
        ServiceProcess process = new ServiceProcess(role.name(), role.getClass());
        CommandSpec spec = CommandSpec.wrapWithoutInspection((Callable<Integer>) () -> {
            serve(role, options);
            return 0;
        });
        spec.name(role.name()).mixinStandardHelpOptions(true);
        spec.addMixin("options", CommandSpec.forAnnotatedObject(options));
        CommandLine cli = new CommandLine(spec);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> process.failed(e, cmd.getErr()));
        return cli.execute(args);
    }

    /**
     * Starts the server {@code options} describe in this JVM and blocks until it has stopped: installs the
     * graceful-stop hook and, when the options name a parent pid, exits once that process is gone.
     */
    public static <O> void serve(Role<O> role, O options) throws Exception {
        Started s = role.start(options, PrometheusRegistry.defaultRegistry);
        new ServiceProcess(role.name(), role.getClass()).serve(s.id(), s.server(), s.parentPid());
    }

    /** The role named {@code name} on the classpath; IllegalArgumentException listing the known ones. */
    public static Role<?> role(String name) {
        for (Role<?> r : ServiceLoader.load(Role.class)) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("role: '" + name + "' is not on the classpath (known: " + names() + ")");
    }

    private static List<String> names() {
        List<String> out = new ArrayList<>();
        ServiceLoader.load(Role.class).forEach(r -> out.add(r.name()));
        return out;
    }
}
