package dev.warmroute.cli;

import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.cli.CliRun.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

    @Test
    void helpListsEveryRegisteredCommandAndExitsZero() {
        Result r = run("--help");
        assertEquals(0, r.code(), r.err());
        for (String name : Main.newCommandLine().getSubcommands().keySet()) {
            assertTrue(r.out().contains(name), "--help does not list " + name + ":\n" + r.out());
        }
    }

    @Test
    void everyCommandAnswersHelpWithExitZero() {
        List<String[]> paths = new ArrayList<>();
        collect(Main.newCommandLine(), new ArrayList<>(), paths);
        assertTrue(paths.size() >= 1);
        for (String[] path : paths) {
            String[] args = new String[path.length + 1];
            System.arraycopy(path, 0, args, 0, path.length);
            args[path.length] = "--help";
            Result r = run(args);
            assertEquals(0, r.code(), String.join(" ", args) + " failed: " + r.err());
            assertTrue(r.out().contains("Usage:"), String.join(" ", args) + " printed no usage");
        }
    }

    @Test
    void versionNamesTheJvmAndCores() {
        Result r = run("version");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("java " + Runtime.version()), r.out());
        assertTrue(r.out().contains("cores " + Runtime.getRuntime().availableProcessors()), r.out());
    }

    @Test
    void unknownCommandFailsWithANonZeroCodeAndAMessage() {
        Result r = run("no-such-command");
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("no-such-command"), r.err());
    }

    @Test
    void environmentOverridesConfigFileWhichOverridesBuiltInDefault(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("warmroute.conf");
        Files.writeString(file, "# comment\nprobe.level = 7\nprobe.name = from-file\n");
        ConfigDefaults defaults = ConfigDefaults.from(Map.of("WARMROUTE_PROBE_NAME", "from-env"), file);
        Probe probe = new Probe();
        CommandLine root = new CommandLine(new Main()).addSubcommand("probe", probe);
        root.setDefaultValueProvider(defaults);
        root.parseArgs("probe");
        assertEquals("from-env", probe.name);
        assertEquals(7, probe.level);
        assertEquals("built-in", probe.other);

        root.parseArgs("probe", "--name", "from-flag");
        assertEquals("from-flag", probe.name);
    }

    @Test
    void aMalformedConfigFileIsReportedWithItsLineNumber(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "worker.port = 1\nthis line has no equals sign\n");
        Result r = run("--config", file.toString(), "version");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("line 2"), r.err());
    }

    @Test
    void aMissingConfigFileIsNamed() {
        Result r = run("--config", "/nonexistent/warmroute.conf", "version");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("/nonexistent/warmroute.conf does not exist"), r.err());
    }

    @CommandLine.Command(name = "probe")
    static final class Probe implements Runnable {
        @CommandLine.Option(names = "--name", defaultValue = "built-in")
        String name;
        @CommandLine.Option(names = "--level", defaultValue = "1")
        int level;
        @CommandLine.Option(names = "--other", defaultValue = "built-in")
        String other;

        @Override
        public void run() {}
    }

    private static void collect(CommandLine cmd, List<String> prefix, List<String[]> out) {
        for (var e : cmd.getSubcommands().entrySet()) {
            if (e.getValue().getCommand() instanceof CommandLine.HelpCommand) {
                continue;
            }
            List<String> path = new ArrayList<>(prefix);
            path.add(e.getKey());
            out.add(path.toArray(String[]::new));
            collect(e.getValue(), path, out);
        }
    }
}
