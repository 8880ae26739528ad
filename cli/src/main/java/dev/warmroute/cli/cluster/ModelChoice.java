package dev.warmroute.cli.cluster;

import dev.warmroute.engine.ModelLocator;
import dev.warmroute.engine.synth.SyntheticModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Which model a local cluster serves: the file given; otherwise the reference model if it is found
 * ({@link ModelLocator}: {@code $WARMROUTE_SHARED/models}, {@code ../shared/models}, {@code models/}); otherwise the
 * synthetic stand-in ({@link SyntheticModel#STAND_IN}: seeded random weights, shape tiny, the tests' fallback too)
 * written into the run directory, so that a fresh clone without any model file still runs. {@link #description()} is
 * the one line that says which.
 */
public record ModelChoice(Path path, String description, boolean synthetic) {

    public static ModelChoice resolve(Path given, Path runDir, Map<String, String> env) throws IOException {
        if (given != null) {
            given = given.toAbsolutePath().normalize();
            if (!Files.isRegularFile(given)) {
                throw new IllegalArgumentException("model: " + given + " is not a file");
            }
            return new ModelChoice(given, "model: " + given + " (given with --model)", false);
        }
        try {
            Path reference = ModelLocator.referenceModel(env);
            return new ModelChoice(reference, "model: reference model " + reference
                    + " (stories260K: a 260K-parameter TinyStories llama; answers are short children's stories)", false);
        } catch (IllegalArgumentException notFound) {
            Path out = SyntheticModel.STAND_IN.writeOnce(runDir);
            return new ModelChoice(out, "model: SYNTHETIC (" + ModelLocator.REFERENCE_MODEL + " not found in "
                    + ModelLocator.candidates(env) + "; wrote seeded random weights, shape tiny, to " + out
                    + "). Its answers are not language; routing, caching and failover are real. Pass --model FILE"
                    + " or put the reference model in ../shared/models/.", true);
        }
    }
}
