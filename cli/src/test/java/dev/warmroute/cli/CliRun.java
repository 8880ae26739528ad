package dev.warmroute.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs the cli in this JVM as a user types it, keeping what it prints; and finds the shared reference model. */
public final class CliRun {

    /** Exit status and everything printed to stdout and stderr. */
    public record Result(int code, String out, String err) {}

    private CliRun() {}

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** The shared folder: env WARMROUTE_SHARED, else the system property warmroute.shared.dir, else ../shared. */
    public static Path shared() {
        String env = System.getenv("WARMROUTE_SHARED");
        return Path.of(env != null && !env.isBlank() ? env : System.getProperty("warmroute.shared.dir", "../shared"))
                .toAbsolutePath().normalize();
    }

    /** The reference model, or the test is skipped with where to put it. */
    public static Path referenceModelOrSkip() {
        Path p = shared().resolve("models/stories260K.gguf");
        assumeTrue(Files.isRegularFile(p), "reference model missing: put stories260K.gguf into " + p.getParent()
                + " (or set WARMROUTE_SHARED)");
        return p;
    }
}
