package dev.warmroute.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmroute.engine.ModelLocator;
import dev.warmroute.engine.synth.SyntheticModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The model a test runs on. Integration tests take {@link #path()}: the reference model when it is found
 * ({@link ModelLocator}, the same lookup as the launcher's), otherwise the synthetic stand-in that {@code cluster up}
 * also falls back to ({@link SyntheticModel#STAND_IN}: shape tiny, seed 1, f32) written once into
 * {@code target/test-models/}, so that a clone without {@code ../shared} still runs every test that
 * does not need the reference model's exact output. Golden tests, which compare with that output, take
 * {@link #referenceOrSkip()} and are skipped with a message saying where to put the file.
 *
 * <p>{@code -Dwarmroute.test.model=synthetic} runs on the synthetic model even where the reference model is present
 * (what a machine without it runs, on a machine with it); {@code reference} makes its absence a failure instead of a
 * fallback (CI, where the shared folder must be there).
 */
public final class TestModel {

    /** {@code auto} (default), {@code synthetic} or {@code reference}. */
    public static final String MODE_PROPERTY = "warmroute.test.model";

    private static Path synthetic;

    private TestModel() {}

    /** The model integration tests serve: the reference model if found (and not overridden), else the synthetic one. */
    public static Path path() {
        return switch (mode()) {
            case "synthetic" -> synthetic();
            case "reference" -> reference().orElseThrow(() -> new IllegalStateException(MODE_PROPERTY
                    + "=reference but " + missing()));
            default -> reference().orElseGet(TestModel::synthetic);
        };
    }

    /**
     * The reference model, for a golden test; skips the test (with where to put the file) when it is absent or when
     * the run is on the synthetic model.
     */
    public static Path referenceOrSkip() {
        assumeTrue(!mode().equals("synthetic"), "golden test: needs the reference model, and this run is on the "
                + "synthetic model (-D" + MODE_PROPERTY + "=synthetic)");
        Optional<Path> p = reference();
        assumeTrue(p.isPresent(), () -> "golden test: " + missing());
        return p.get();
    }

    /** A reference output ({@code reference/NAME} in the shared folder) for a golden test, or the test is skipped. */
    public static Path referenceFileOrSkip(String name) {
        referenceOrSkip();
        Optional<Path> p = ModelLocator.findReferenceFile(name, System.getenv());
        assumeTrue(p.isPresent(), () -> "golden test: " + ModelLocator.whereToPutReferenceFile(name, System.getenv()));
        return p.get();
    }

    /** The synthetic model ({@link SyntheticModel#STAND_IN}), written on first use into {@code target/test-models}. */
    public static synchronized Path synthetic() {
        if (synthetic == null) {
            Path dir = Path.of("target", "test-models").toAbsolutePath();
            try {
                synthetic = SyntheticModel.STAND_IN.writeOnce(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("writing the synthetic test model into " + dir, e);
            }
        }
        return synthetic;
    }

    private static Optional<Path> reference() {
        return ModelLocator.findReferenceModel(System.getenv());
    }

    private static String missing() {
        return ModelLocator.whereToPutReferenceModel(System.getenv());
    }

    private static String mode() {
        String m = System.getProperty(MODE_PROPERTY, "auto").strip().toLowerCase(Locale.ROOT);
        if (!m.equals("auto") && !m.equals("synthetic") && !m.equals("reference")) {
            throw new IllegalArgumentException(MODE_PROPERTY + ": auto, synthetic or reference, got '" + m + "'");
        }
        return m;
    }
}
