package dev.warmroute.engine;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * The engine's golden tests' view of the reference model: {@link ModelLocator}'s lookup (the one every module uses),
 * and a skipped test with where to put the file when it is absent. The engine's other tests write random models of
 * their own ({@link RandomLlama}). The other modules' tests use test-fixtures' {@code TestModel}, which sits above
 * the engine and so cannot be used here.
 */
public final class TestModels {
    private TestModels() {}

    public static Path referenceModelOrSkip() {
        Optional<Path> p = ModelLocator.findReferenceModel(System.getenv());
        Assumptions.assumeTrue(p.isPresent(), () -> "golden test: "
                + ModelLocator.whereToPutReferenceModel(System.getenv()));
        return p.get();
    }

    public static Path referenceFileOrSkip(String name) {
        Optional<Path> p = ModelLocator.findReferenceFile(name, System.getenv());
        Assumptions.assumeTrue(p.isPresent(), () -> "golden test: "
                + ModelLocator.whereToPutReferenceFile(name, System.getenv()));
        return p.get();
    }
}
