package dev.warmroute.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code warmroute model ...}: make, convert and inspect GGUF model files. */
@Command(name = "model", description = "Make, convert and inspect GGUF model files.",
        subcommands = {ModelSynthCommand.class, ModelQuantizeCommand.class, ModelInfoCommand.class})
final class ModelCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Weight types the writer and converter handle (picocli matches them case-insensitively: q8_0, f32...). */
    enum WeightType {
        F32, F16, BF16, Q8_0, Q4_0;

        dev.warmroute.engine.gguf.GgmlType ggml() {
            return dev.warmroute.engine.gguf.GgmlType.valueOf(name());
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Refuses to overwrite a file unless asked, and to write where no directory can be made. */
    static void checkOutput(Path out, boolean force) {
        if (Files.isDirectory(out)) {
            throw new UserError("--out " + out + " is a directory; give a file name such as " + out.resolve("model.gguf"));
        }
        if (Files.exists(out) && !force) {
            throw new UserError("--out " + out + " exists; pass --force to overwrite it");
        }
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String count(long n) {
        if (n >= 1_000_000) {
            return String.format(Locale.ROOT, "%.2fM", n / 1e6);
        }
        if (n >= 1_000) {
            return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        }
        return Long.toString(n);
    }
}
