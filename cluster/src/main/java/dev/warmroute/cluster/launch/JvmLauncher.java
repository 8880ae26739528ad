package dev.warmroute.cluster.launch;

import dev.warmroute.cluster.ReadyFile;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Starts warmroute servers as separate JVMs (cluster up, drills, failover tests) and waits for their ready file.
 *
 * <p>A child gets the same classpath and the same module/opens flags as this JVM, so whatever launched us (the
 * launcher script, Surefire) decides them once. Output goes to a log file per child, never to our console.
 */
public final class JvmLauncher {

    private static final Set<String> INHERITED_PREFIXES = Set.of("--add-modules", "--add-opens", "--add-exports",
            "--enable-native-access", "--sun-misc-unsafe-memory-access", "-Dhazelcast.", "-Dwarmroute.",
            "-XX:+IgnoreUnrecognizedVMOptions", "-XX:UseAVX", "-Xss");

    /** On every JVM the project starts (here, bin/warmroute, the image's launcher, the tests' argLine). */
    public static final String EXIT_ON_OOM = "-XX:+ExitOnOutOfMemoryError";

    private JvmLauncher() {}

    /**
     * The JVM flags of this process that children need: module flags, opens, warmroute and Hazelcast properties, and
     * an instruction-set cap ({@code -XX:UseAVX=2}: a cluster of AVX2 workers on an AVX-512 machine, for benchmarks).
     */
    public static List<String> inheritedJvmFlags() {
        List<String> in = ManagementFactory.getRuntimeMXBean().getInputArguments();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            String a = in.get(i);
            boolean keep = INHERITED_PREFIXES.stream().anyMatch(a::startsWith);
            if (keep) {
                out.add(a);
                // "--add-modules X" may come as two arguments
                if (!a.contains("=") && (a.equals("--add-modules") || a.equals("--add-opens")
                        || a.equals("--add-exports")) && i + 1 < in.size()) {
                    out.add(in.get(++i));
                }
            }
        }
        return out;
    }

    /**
     * Starts {@code mainClass args} in a new JVM.
     *
     * @param extraJvmFlags e.g. {@code -Xmx1g}
     * @param env           extra environment variables
     * @param log           file that receives the child's stdout and stderr
     */
    public static ChildProcess start(String name, String mainClass, List<String> args, List<String> extraJvmFlags,
            Map<String, String> env, Path log) throws IOException {
        return start(name, List.of(), mainClass, args, extraJvmFlags, env, log);
    }

    /**
     * As {@link #start(String, String, List, List, Map, Path)}, the JVM run by {@code prefix} (e.g. {@code ip netns
     * exec NAME}, which replaces itself with the JVM: the pid stays the JVM's, so signals reach it).
     */
    public static ChildProcess start(String name, List<String> prefix, String mainClass, List<String> args,
            List<String> extraJvmFlags, Map<String, String> env, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // A JVM that ran out of heap is half dead (threads gone, locks held, a Hazelcast member that still answers
        // heartbeats): it must exit, so that its peers see a dead process and fail over.
        cmd.add(EXIT_ON_OOM);
        cmd.addAll(inheritedJvmFlags());
        cmd.addAll(extraJvmFlags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        Files.createDirectories(log.toAbsolutePath().getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        return new ChildProcess(name, pb.start(), log);
    }

    /** A started child JVM. */
    public static final class ChildProcess implements AutoCloseable {
        private final String name;
        private final Process process;
        private final Path log;

        ChildProcess(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
        }

        public String name() {
            return name;
        }

        public long pid() {
            return process.pid();
        }

        public Process process() {
            return process;
        }

        public Path log() {
            return log;
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /**
         * Waits for the ready file to appear (the child writes it when serving). Fails early, with the end of the
         * child's log, if the child exits first.
         */
        public Map<String, String> awaitReady(Path readyFile, Duration within) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + within.toNanos();
            while (System.nanoTime() < deadline) {
                if (Files.exists(readyFile)) {
                    return ReadyFile.read(readyFile);
                }
                if (!process.isAlive()) {
                    throw new IOException(name + " exited with code " + process.exitValue() + " before it was ready; "
                            + "last lines of " + log + ":\n" + tail(20));
                }
                Thread.sleep(25);
            }
            throw new IOException(name + " not ready within " + within.toSeconds() + " s; last lines of " + log
                    + ":\n" + tail(20));
        }

        /** kill -9: no shutdown hooks, no goodbye to the cluster. */
        public void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }

        /** SIGTERM and wait: the child's shutdown hook runs (graceful stop). Escalates to kill -9 after the wait. */
        public int stop(Duration within) throws InterruptedException {
            process.destroy();
            if (!process.waitFor(within.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
            return process.exitValue();
        }

        /** The last lines of the child's log, for error messages. */
        public String tail(int lines) {
            try {
                List<String> all = Files.readAllLines(log);
                return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
            } catch (IOException e) {
                return "(log unreadable: " + e.getMessage() + ")";
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                kill();
            }
        }
    }
}
