package dev.warmroute.cli.cluster;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.synth.SyntheticModel;
import dev.warmroute.engine.synth.SyntheticShape;
import dev.warmroute.worker.ModelLocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Which model a local cluster serves: the file given; otherwise the reference model if it is found
 * ({@link ModelLocator}: {@code $WARMROUTE_SHARED/models}, {@code ../shared/models}, {@code models/}); otherwise a
 * synthetic model (seeded random weights, shape "tiny") written into the run directory, so that a fresh clone
 * without any model file still runs. {@link #description()} is the one line that says which.
 */
public record ModelChoice(Path path, String description, boolean synthetic) {

    /** Synthetic fallback: tiny shape, seed 1, a context long enough for a chat. */
    static final int SYNTHETIC_CONTEXT = 1024;

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
            Files.createDirectories(runDir);
            Path out = runDir.resolve("synthetic-tiny.gguf");
            if (!Files.isRegularFile(out)) {
                new SyntheticModel(SyntheticShape.TINY, GgmlType.F32, 1, SYNTHETIC_CONTEXT).write(out);
            }
            return new ModelChoice(out, "model: SYNTHETIC (" + ModelLocator.REFERENCE_MODEL + " not found in "
                    + ModelLocator.candidates(env) + "; wrote seeded random weights, shape tiny, to " + out
                    + "). Its answers are not language; routing, caching and failover are real. Pass --model FILE"
                    + " or put the reference model in ../shared/models/.", true);
        }
    }
}
