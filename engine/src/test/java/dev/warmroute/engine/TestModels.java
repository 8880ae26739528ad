package dev.warmroute.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Where tests find the shared reference model; absent file = skipped test with a message saying where to put it. */
public final class TestModels {
    private TestModels() {}

    public static Path sharedDir() {
        String env = System.getenv("WARMROUTE_SHARED");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("warmroute.shared.dir", "../shared"));
    }

    public static Path referenceModelOrSkip() {
        Path p = sharedDir().resolve("models/stories260K.gguf").toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(p),
                "reference model absent: put stories260K.gguf at " + p + " (or set WARMROUTE_SHARED)");
        return p;
    }

    public static Path referenceFileOrSkip(String name) {
        Path p = sharedDir().resolve("reference").resolve(name).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(p), "reference output absent: expected " + p);
        return p;
    }
}
