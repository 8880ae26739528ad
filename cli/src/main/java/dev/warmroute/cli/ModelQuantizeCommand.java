package dev.warmroute.cli;

import dev.warmroute.engine.gguf.GgufException;
import dev.warmroute.engine.quant.ModelQuantizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code warmroute model quantize}: convert a model's weight matrices to Q8_0/Q4_0 (or F16/BF16/F32). */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Convert the weight matrices of a GGUF model (ggml's exact Q8_0/Q4_0 block layouts).",
                "Norms stay F32; matrices whose rows are not whole 32-element blocks keep their type.",
                "The token embedding and the output matrix are converted too (llama.cpp would use Q6_K",
                "for the output of a Q4_0 model; we have no K-quants)."})
final class ModelQuantizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "The GGUF model to read.")
    Path in;

    @Option(names = "--type", required = true, description = "Target type: q8_0, q4_0, f16, bf16 or f32.")
    ModelCommand.WeightType type;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The GGUF file to write.")
    Path out;

    @Option(names = "--force", description = "Overwrite --out if it exists.")
    boolean force;

    @Option(names = "--verbose", description = "List every tensor.")
    boolean verbose;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(in)) {
            throw new UserError("--in " + in + " does not exist or is not a file");
        }
        ModelCommand.checkOutput(out, force);
        long t0 = System.nanoTime();
        List<ModelQuantizer.Entry> report;
        try {
            report = ModelQuantizer.quantize(in, out, type.ggml());
        } catch (IllegalArgumentException | GgufException e) {
            throw new UserError(e.getMessage());
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + e.getMessage(), e);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        PrintWriter o = spec.commandLine().getOut();
        long converted = report.stream().filter(e -> e.from() != e.to()).count();
        long bytesIn = report.stream().mapToLong(ModelQuantizer.Entry::bytesIn).sum();
        long bytesOut = report.stream().mapToLong(ModelQuantizer.Entry::bytesOut).sum();
        for (ModelQuantizer.Entry e : report) {
            if (verbose || (!e.note().isEmpty() && !e.note().startsWith("1-D"))) {
                o.printf(Locale.ROOT, "  %-28s %-14s %-5s -> %-5s %s%n", e.name(), Arrays.toString(e.dims()),
                        e.from(), e.to(), e.note());
            }
        }
        long norms = report.stream().filter(e -> e.note().startsWith("1-D")).count();
        o.printf(Locale.ROOT, "wrote %s: %d of %d tensors converted to %s (%d norms kept F32), tensor data %s -> %s (%.1f s)%n",
                out, converted, report.size(), type.label(), norms, ModelCommand.bytes(bytesIn),
                ModelCommand.bytes(bytesOut), secs);
        return 0;
    }
}
