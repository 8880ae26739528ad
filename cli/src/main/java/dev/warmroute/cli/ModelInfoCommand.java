package dev.warmroute.cli;

import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufException;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import dev.warmroute.engine.gguf.GgufValueType;
import dev.warmroute.engine.template.ChatTemplates;
import dev.warmroute.engine.tokenizer.GgufTokenizers;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code warmroute model info}: what an operator wants to know about a model file before serving it. Reads only the
 * GGUF header (the tensor data stays mapped, untouched), so it works on any GGUF, including architectures or tensor
 * types the engine cannot run.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a GGUF model's summary (shape, tokenizer, chat template), its metadata and its tensor table.")
final class ModelInfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "The GGUF model file.")
    Path model;

    @Option(names = "--no-tensors", description = "Leave out the tensor table.")
    boolean noTensors;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(model)) {
            throw new UserError("--model " + model + " does not exist or is not a file");
        }
        try (GgufFile f = GgufFile.open(model)) {
            print(f, spec.commandLine().getOut());
        } catch (GgufException e) {
            throw new UserError(e.getMessage());
        }
        return 0;
    }

    private void print(GgufFile f, PrintWriter o) {
        String arch = f.getString("general.architecture", "(none)");
        long params = 0;
        Map<GgmlType, long[]> byType = new TreeMap<>();
        for (GgufTensorInfo t : f.tensorList()) {
            params += t.elementCount();
            long[] agg = byType.computeIfAbsent(t.type(), k -> new long[2]);
            agg[0]++;
            agg[1] += t.byteSize();
        }
        row(o, "file", f.path() + " (" + ModelCommand.bytes(f.fileSize()) + ", GGUF v" + f.version() + ", alignment "
                + f.alignment() + ", tensor data at byte " + f.dataOffset() + ")");
        row(o, "name", f.getString("general.name", "(none)"));
        row(o, "architecture", arch);
        row(o, "synthetic", f.getBoolean("warmroute.synthetic", false)
                ? "yes (random weights, shape " + f.getString("warmroute.synthetic.shape", "?") + ", seed "
                + (f.contains("warmroute.synthetic.seed") ? f.getLong("warmroute.synthetic.seed") : "?") + ")" : "no");
        row(o, "parameters", ModelCommand.count(params) + " in " + f.tensors().size() + " tensors");
        StringBuilder types = new StringBuilder();
        byType.forEach((t, agg) -> types.append(types.isEmpty() ? "" : ", ").append(t).append(" ").append(agg[0])
                .append(" (").append(ModelCommand.bytes(agg[1])).append(")"));
        row(o, "tensor types", types.toString());
        if (f.contains(arch + ".embedding_length")) {
            int dim = f.getInt(arch + ".embedding_length");
            int heads = f.getInt(arch + ".attention.head_count", 0);
            row(o, "shape", "dim " + dim + ", layers " + f.getInt(arch + ".block_count", 0) + ", heads " + heads
                    + ", kv heads " + f.getInt(arch + ".attention.head_count_kv", heads)
                    + (heads > 0 ? ", head dim " + dim / heads : "")
                    + ", hidden " + f.getInt(arch + ".feed_forward_length", 0)
                    + ", context " + f.getInt(arch + ".context_length", 0)
                    + ", rope theta " + fmt(f.getFloat(arch + ".rope.freq_base", 10000f))
                    + ", rms eps " + fmt(f.getFloat(arch + ".attention.layer_norm_rms_epsilon", 0f)));
            int layers = f.getInt(arch + ".block_count", 0);
            int kvHeads = f.getInt(arch + ".attention.head_count_kv", heads);
            int context = f.getInt(arch + ".context_length", 0);
            if (heads > 0 && layers > 0) {
                // The engine's cache: F32 keys and values of every layer for each position.
                long perToken = 2L * layers * kvHeads * (dim / heads) * Float.BYTES;
                row(o, "kv cache", ModelCommand.bytes(perToken) + " per token position (F32 keys and values), "
                        + ModelCommand.bytes(perToken * context) + " for the whole context of " + context);
            }
        }
        if (f.contains("tokenizer.ggml.model")) {
            try {
                Tokenizer tok = GgufTokenizers.from(f);
                row(o, "tokenizer", tok.model() + ", " + tok.vocabSize() + " tokens, bos " + tok.bos() + ", eos "
                        + tok.eos() + (tok.addsSpacePrefix() ? ", dummy space prefix" : "")
                        + ", fingerprint " + tok.fingerprint());
                ChatTemplates.Selection sel = ChatTemplates.forModel(f, tok);
                row(o, "chat template", sel.template().name() + " (" + sel.reason() + "), stops at "
                        + sel.template().stopTokens());
            } catch (IllegalArgumentException | GgufException e) {
                row(o, "tokenizer", "unusable: " + e.getMessage());
            }
        } else {
            row(o, "tokenizer", "none in the file");
        }

        o.println();
        o.println("metadata (" + f.metadata().size() + " keys)");
        for (String key : f.metadata().keySet()) {
            GgufValueType t = f.valueType(key);
            String type = t == GgufValueType.ARRAY ? "[" + f.arrayElementType(key) + "]" : String.valueOf(t);
            o.printf(Locale.ROOT, "  %-42s %-10s %s%n", key, type, value(f.get(key)));
        }
        if (!noTensors) {
            o.println();
            o.println("tensors (" + f.tensors().size() + ")");
            o.printf(Locale.ROOT, "  %-32s %-6s %-18s %12s %12s %12s%n", "name", "type", "dims", "elements", "bytes",
                    "offset");
            for (GgufTensorInfo t : f.tensorList()) {
                o.printf(Locale.ROOT, "  %-32s %-6s %-18s %12d %12d %12d%n", t.name(), t.type(),
                        Arrays.toString(t.dims()), t.elementCount(), t.byteSize(), t.offset());
            }
        }
    }

    private static void row(PrintWriter o, String label, String value) {
        o.printf(Locale.ROOT, "%-14s %s%n", label, value);
    }

    private static String fmt(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Float.toString(v);
    }

    /** Scalars as they are (long strings shortened); arrays as their length and first few elements. */
    static String value(Object v) {
        if (v == null) {
            return "";
        }
        if (v.getClass().isArray()) {
            int n = Array.getLength(v);
            StringBuilder sb = new StringBuilder(n + " items");
            if (n > 0) {
                sb.append(": ");
                for (int i = 0; i < Math.min(n, 6); i++) {
                    Object e = Array.get(v, i);
                    sb.append(i == 0 ? "" : ", ").append(e instanceof String s ? quote(s, 20)
                            : e != null && e.getClass().isArray() ? "[" + Array.getLength(e) + " items]" : e);
                }
                if (n > 6) {
                    sb.append(", ...");
                }
            }
            return sb.toString();
        }
        return v instanceof String s ? quote(s, 80) : v.toString();
    }

    private static String quote(String s, int max) {
        String e = s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t");
        if (e.length() > max) {
            e = e.substring(0, max) + "...(" + s.length() + " chars)";
        }
        return "\"" + e + "\"";
    }
}
