package dev.warmroute.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the reference model ({@value #REFERENCE_MODEL}) and its reference outputs when no file is given: the one
 * lookup of the launcher's commands ({@code warmroute worker} without {@code --model}, {@code cluster up}, the
 * benchmarks) and of every module's tests. The shared folder is tried in this order: {@code $WARMROUTE_SHARED}, the
 * {@code warmroute.shared.dir} property, then {@code ../shared} beside the repository (found from the working
 * directory and from where the code was loaded); the model also in {@code models/} of the working directory.
 *
 * <p>The search beside the repository can be turned off with {@code -Dwarmroute.shared.search=false}, so that a
 * test run can hide the shared folder ({@code -Dwarmroute.shared.dir=/nonexistent}, {@code WARMROUTE_SHARED} unset)
 * and show what runs without it.
 */
public final class ModelLocator {

    public static final String REFERENCE_MODEL = "stories260K.gguf";
    /** {@code false} turns off the search for {@code ../shared} beside the repository. */
    public static final String SEARCH_PROPERTY = "warmroute.shared.search";

    private ModelLocator() {}

    /** Shared folders to try, in order (they need not exist). */
    public static List<Path> sharedDirs(Map<String, String> env) {
        LinkedHashSet<Path> out = new LinkedHashSet<>();
        String shared = env.get("WARMROUTE_SHARED");
        if (shared != null && !shared.isBlank()) {
            out.add(Path.of(shared).toAbsolutePath().normalize());
        }
        String prop = System.getProperty("warmroute.shared.dir");
        if (prop != null && !prop.isBlank()) {
            out.add(Path.of(prop).toAbsolutePath().normalize());
        }
        if (!"false".equalsIgnoreCase(System.getProperty(SEARCH_PROPERTY, "true"))) {
            repositoryRoot(Path.of("").toAbsolutePath()).ifPresent(root -> out.add(root.resolveSibling("shared")));
            try {
                Path code = Path.of(ModelLocator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                repositoryRoot(code).ifPresent(root -> out.add(root.resolveSibling("shared")));
            } catch (Exception ignored) {
                // no code source (unusual class loader): skip this candidate
            }
        }
        return new ArrayList<>(out);
    }

    /** The first folder at or above {@code from} that holds the Maven Wrapper or a .git: the repository's root. */
    private static Optional<Path> repositoryRoot(Path from) {
        for (Path dir = from; dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("mvnw")) || Files.exists(dir.resolve(".git"))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    /** Candidate paths of the reference model, in the order they are tried. */
    public static List<Path> candidates(Map<String, String> env) {
        LinkedHashSet<Path> out = new LinkedHashSet<>();
        for (Path dir : sharedDirs(env)) {
            out.add(dir.resolve("models").resolve(REFERENCE_MODEL));
        }
        out.add(Path.of("").toAbsolutePath().resolve("models").resolve(REFERENCE_MODEL));
        return new ArrayList<>(out);
    }

    /** The first existing candidate, if any. */
    public static Optional<Path> findReferenceModel(Map<String, String> env) {
        return candidates(env).stream().filter(Files::isRegularFile).map(Path::normalize).findFirst();
    }

    /** The first existing candidate; IllegalArgumentException listing the places tried when there is none. */
    public static Path referenceModel(Map<String, String> env) {
        return findReferenceModel(env).orElseThrow(() -> new IllegalArgumentException("model: no --model given and "
                + REFERENCE_MODEL + " not found; looked at " + candidates(env)
                + ". Pass --model FILE.gguf or put the file in $WARMROUTE_SHARED/models/"));
    }

    /** What to do when the reference model is missing: where to put it, and where it was looked for. */
    public static String whereToPutReferenceModel(Map<String, String> env) {
        Path dir = sharedDirs(env).stream().findFirst().orElse(Path.of("..", "shared").toAbsolutePath().normalize());
        return "reference model " + REFERENCE_MODEL + " not found; put it into " + dir.resolve("models")
                + " (or set WARMROUTE_SHARED); looked at " + candidates(env);
    }

    /** What to do when a reference output is missing. */
    public static String whereToPutReferenceFile(String name, Map<String, String> env) {
        Path dir = sharedDirs(env).stream().findFirst().orElse(Path.of("..", "shared").toAbsolutePath().normalize());
        return "reference output " + name + " not found; put it into " + dir.resolve("reference")
                + " (looked in " + sharedDirs(env) + ")";
    }

    /** A reference output ({@code reference/NAME} in the first shared folder that has it), if any. */
    public static Optional<Path> findReferenceFile(String name, Map<String, String> env) {
        return sharedDirs(env).stream().map(d -> d.resolve("reference").resolve(name)).filter(Files::isRegularFile)
                .findFirst();
    }
}
