package dev.warmroute.cli.http;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Node.js clients of {@code clients/node} (real third-party clients: {@code openai}, {@code @grpc/grpc-js})
 * as separate processes. Tests that use them are skipped, saying what to install, where node or the folder's
 * {@code node_modules} (made by {@code npm ci}, which .ci/run runs) are missing.
 */
final class NodeScripts {

    static final ObjectMapper JSON = new ObjectMapper();

    /** The folder, or the test is skipped with the command that makes it usable. */
    static Path folderOrSkip() {
        Path dir = Path.of(System.getProperty("warmroute.project.dir", ".")).resolve("clients/node").toAbsolutePath()
                .normalize();
        assumeTrue(runs("node", "--version"), "node is not installed (Debian: apt-get install nodejs npm): the Node.js client "
                + "tests are skipped");
        assumeTrue(Files.isDirectory(dir.resolve("node_modules/openai")), "no " + dir.resolve("node_modules")
                + ": run `npm ci` in " + dir + " (.ci/run does): the Node.js client tests are skipped");
        return dir;
    }

    /** True when the command can be started and exits with status 0 within 30 s. */
    static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A running script: its stdout as JSON lines, one at a time; stdin to answer it; stderr in a file. */
    static final class Run implements AutoCloseable {
        private final Process process;
        private final Path stderr;
        private static final String EOF = "\u0000eof";
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> all = new ArrayList<>();

        Run(Path dir, String script, Map<String, String> env, List<String> args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of("node", script));
            cmd.addAll(args);
            this.stderr = Files.createTempFile("node-" + script, ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                    .redirectError(stderr.toFile());
            pb.environment().putAll(env);
            this.process = pb.start();
            Thread.ofPlatform().daemon().name("node-" + script).start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("{\"reader_failed\":\"" + e + "\"}");
                } finally {
                    lines.add(EOF);
                }
            });
        }

        /** The next JSON line the script prints. */
        JsonNode next(Duration within) throws IOException, InterruptedException {
            String line = lines.poll(within.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null || line.equals(EOF)) {
                throw new IOException("no output within " + within + " (exit " + exitCode() + "): " + diagnostics());
            }
            all.add(line);
            return JSON.readTree(line);
        }

        /** Every JSON line until the script exits, which it must do with status 0. */
        List<JsonNode> rest(Duration within) throws IOException, InterruptedException {
            if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("still running after " + within + ": " + diagnostics());
            }
            List<JsonNode> out = new ArrayList<>();
            for (String line; (line = lines.poll(10, TimeUnit.SECONDS)) != null && !line.equals(EOF); ) {
                all.add(line);
                out.add(JSON.readTree(line));
            }
            if (process.exitValue() != 0) {
                throw new IOException("exit " + process.exitValue() + ": " + diagnostics());
            }
            return out;
        }

        void answer(String line) throws IOException {
            OutputStream in = process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        String diagnostics() {
            String err;
            try {
                err = Files.readString(stderr);
            } catch (IOException e) {
                err = e.toString();
            }
            return "stdout " + all + " stderr " + err;
        }

        private String exitCode() {
            return process.isAlive() ? "none yet" : String.valueOf(process.exitValue());
        }

        @Override
        public void close() throws IOException {
            process.destroyForcibly();
            Files.deleteIfExists(stderr);
        }
    }
}
