package dev.warmroute.cli;

import dev.warmroute.engine.synth.SyntheticModel;
import dev.warmroute.engine.synth.SyntheticShape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code warmroute model synth}: a seeded random-weight llama GGUF for benchmarks and model-less runs. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a seeded random-weight llama GGUF with a synthetic vocabulary (general.name",
                "synthetic-<shape>, warmroute.synthetic = true). Shapes: 15M (dim 288, 6 layers, 6 heads,",
                "hidden 768, vocab 32000), 110M (dim 768, 12 layers, 12 heads, hidden 2048, vocab 32000),",
                "tiny (dim 64, 2 layers, 4 heads, 2 kv heads, hidden 192, vocab 512); --dim etc. override."})
final class ModelSynthCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--shape", defaultValue = "15M", description = "15M, 110M or tiny (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--dim", description = "Embedding size (overrides the shape).")
    Integer dim;

    @Option(names = "--layers", description = "Number of transformer blocks (overrides the shape).")
    Integer layers;

    @Option(names = "--heads", description = "Attention heads (overrides the shape).")
    Integer heads;

    @Option(names = "--kv-heads", description = "Key/value heads, divides --heads (overrides the shape).")
    Integer kvHeads;

    @Option(names = "--hidden-dim", description = "Feed-forward size (overrides the shape).")
    Integer hiddenDim;

    @Option(names = "--vocab", description = "Vocabulary size (overrides the shape).")
    Integer vocab;

    @Option(names = "--type", defaultValue = "f32",
            description = "Weight type: f32, f16, bf16, q8_0, q4_0 (default: ${DEFAULT-VALUE}); norms stay f32.")
    ModelCommand.WeightType type;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--context", defaultValue = "2048",
            description = "llama.context_length to record (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The GGUF file to write.")
    Path out;

    @Option(names = "--force", description = "Overwrite --out if it exists.")
    boolean force;

    @Override
    public Integer call() {
        SyntheticModel model;
        try {
            SyntheticShape s = SyntheticShape.named(shape);
            if (dim != null || layers != null || heads != null || kvHeads != null || hiddenDim != null || vocab != null) {
                s = SyntheticShape.custom(or(dim, s.dim()), or(layers, s.layers()), or(heads, s.heads()),
                        or(kvHeads, s.kvHeads()), or(hiddenDim, s.hiddenDim()), or(vocab, s.vocab()));
            }
            model = new SyntheticModel(s, type.ggml(), seed, context);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        ModelCommand.checkOutput(out, force);
        long t0 = System.nanoTime();
        try {
            model.write(out);
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + e.getMessage(), e);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long size;
        try {
            size = Files.size(out);
        } catch (IOException e) {
            size = -1;
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: %s, %s, %s parameters, %s, seed %d, context %d (%.1f s)%n",
                out, model.name(), type.label(), ModelCommand.count(model.shape().parameters()),
                ModelCommand.bytes(size), seed, context, secs);
        return 0;
    }

    private static int or(Integer v, int d) {
        return v != null ? v : d;
    }
}
