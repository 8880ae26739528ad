package dev.warmroute.worker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Finds the reference model when no {@code --model} is given: {@code $WARMROUTE_SHARED/models/}, the
 * {@code warmroute.shared.dir} property, {@code ../shared/models/} next to the repository (found from the working
 * directory and from where the code was loaded), then {@code models/} in the working directory.
 */
public final class ModelLocator {

    public static final String REFERENCE_MODEL = "stories260K.gguf";

    private ModelLocator() {}

    /** Candidate paths, in the order they are tried. */
    public static List<Path> candidates(Map<String, String> env) {
        LinkedHashSet<Path> out = new LinkedHashSet<>();
        String shared = env.get("WARMROUTE_SHARED");
        if (shared != null && !shared.isBlank()) {
            out.add(Path.of(shared, "models", REFERENCE_MODEL));
        }
        String prop = System.getProperty("warmroute.shared.dir");
        if (prop != null && !prop.isBlank()) {
            out.add(Path.of(prop, "models", REFERENCE_MODEL));
        }
        Path cwd = Path.of("").toAbsolutePath();
        for (Path dir = cwd; dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("mvnw")) || Files.exists(dir.resolve(".git"))) {
                out.add(dir.resolveSibling("shared").resolve("models").resolve(REFERENCE_MODEL));
                break;
            }
        }
        try {
            Path code = Path.of(ModelLocator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir = code; dir != null; dir = dir.getParent()) {
                if (Files.exists(dir.resolve("mvnw"))) {
                    out.add(dir.resolveSibling("shared").resolve("models").resolve(REFERENCE_MODEL));
                    break;
                }
            }
        } catch (Exception ignored) {
            // no code source (unusual class loader): skip this candidate
        }
        out.add(cwd.resolve("models").resolve(REFERENCE_MODEL));
        return new ArrayList<>(out);
    }

    /** The first existing candidate; IllegalArgumentException listing the places tried when there is none. */
    public static Path referenceModel(Map<String, String> env) {
        List<Path> tried = candidates(env);
        for (Path p : tried) {
            if (Files.isRegularFile(p)) {
                return p.normalize();
            }
        }
        throw new IllegalArgumentException("model: no --model given and " + REFERENCE_MODEL + " not found; looked at "
                + tried + ". Pass --model FILE.gguf or put the file in $WARMROUTE_SHARED/models/");
    }
}
