package dev.warmroute.cli;

import dev.warmroute.engine.Model;
import dev.warmroute.engine.tensor.VectorWidth;
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

/**
 * Prefill and decode speed measured as llama-bench does (see {@link EngineMeasurement}); with
 * {@code --compare-llama-bench} also llama.cpp's own llama-bench on the same files, in alternation
 * ({@link LlamaBenchComparison}).
 */
@Command(name = "engine", description = {
        "Measure engine prefill (ppN) and decode (tgN) tokens/s like llama-bench: empty cache, warm-up excluded,",
        "median of repetitions. Prints a table, or JSON with pp_tok_s and tg_tok_s. With --compare-llama-bench, runs",
        "llama.cpp's llama-bench and this engine in turn on the same files and prints both and their ratios.",
        "The kernels' vector width is this JVM's: set it with WARMROUTE_JAVA_OPTS=-Dwarmroute.engine.vector=256."})
final class BenchEngineCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", required = true,
            description = "GGUF model file (llama architecture); repeat for several.")
    List<Path> models;

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "512",
            description = "Tokens prefilled per pp run (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", paramLabel = "N", defaultValue = "128",
            description = "Decode steps per tg run (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Compute threads; 0 = all cores (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--repetitions", paramLabel = "R", defaultValue = "5",
            description = "Measured runs of each test after one warm-up (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--roofline", description = {"Also measure the machine's streaming read bandwidth now and print",
            "the decode bound it implies (weight bytes per token / bandwidth)."})
    boolean roofline;

    @Option(names = "--cpu-time", description = {"Time by the calling thread's CPU time instead of the wall clock",
            "(needs --threads 1): steadier on a shared machine; not comparable with wall-clock figures of 2 threads."})
    boolean cpuTime;

    @Option(names = "--compare-llama-bench", paramLabel = "PATH", description = {
            "llama.cpp's llama-bench binary: run it and this engine in alternation on the same files (same threads,",
            "-p/-n and repetitions) and print both with the ratios."})
    Path llamaBench;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3", description = {
            "With --compare-llama-bench: rounds of (llama-bench, engine) per model; the table gives medians over",
            "rounds and the median of the per-round ratios (default: ${DEFAULT-VALUE})."})
    int rounds;

    @Override
    public Integer call() throws Exception {
        if (promptTokens < 1 || genTokens < 1) {
            throw new UserError("--prompt-tokens and --gen-tokens must be >= 1");
        }
        if (repetitions < 1 || repetitions > 1000) {
            throw new UserError("--repetitions must be 1..1000, got " + repetitions);
        }
        if (rounds < 1 || rounds > 100) {
            throw new UserError("--rounds must be 1..100, got " + rounds);
        }
        if (cpuTime && threads != 1) {
            throw new UserError("--cpu-time needs --threads 1 (the CPU time of one thread is measured)");
        }
        if (cpuTime && llamaBench != null) {
            throw new UserError("--cpu-time cannot be combined with --compare-llama-bench (llama-bench reports wall"
                    + " time)");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (llamaBench != null) {
            if (!Files.isExecutable(llamaBench)) {
                throw new UserError("--compare-llama-bench " + llamaBench + " is not an executable file (build it with"
                        + " ../shared/tools/llama-bench/build.sh)");
            }
            new LlamaBenchComparison(llamaBench, models, threads, promptTokens, genTokens, repetitions, rounds, json)
                    .run(out);
            out.flush();
            return 0;
        }
        for (Path model : models) {
            try (Model m = EngineCli.load(model, threads)) {
                int ctx = m.config().contextLength();
                if (promptTokens > ctx || genTokens > ctx) {
                    throw new UserError("--prompt-tokens " + promptTokens + " / --gen-tokens " + genTokens
                            + " exceed the model's context length " + ctx);
                }
                print(out, m, EngineMeasurement.run(m, promptTokens, genTokens, repetitions, cpuTime));
            }
        }
        out.flush();
        return 0;
    }

    /** "java 25..., 2 cores, 256-bit kernels (...)": the header line of every engine benchmark. */
    static String jvmLine() {
        return "java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                + VectorWidth.describe();
    }

    private void print(PrintWriter out, Model m, EngineMeasurement r) throws InterruptedException {
        double bandwidth = roofline ? dev.warmroute.engine.MemoryBandwidth.measure(m.options().threads()) : 0;
        double bound = bandwidth / m.decodeBytesPerToken();
        if (json) {
            out.printf(Locale.ROOT, "{\"model\":\"%s\",\"synthetic\":%s,\"type\":\"%s\",\"threads\":%d,"
                            + "\"prompt_tokens\":%d,\"gen_tokens\":%d,\"repetitions\":%d,"
                            + "\"pp_tok_s\":%.2f,\"tg_tok_s\":%.2f,\"pp_runs\":%s,\"tg_runs\":%s,"
                            + "\"read_gb_s\":%.2f,\"decode_bytes_per_token\":%d,\"tg_bound_tok_s\":%.2f,"
                            + "\"vector_bits\":%d,\"clock\":\"%s\",\"jvm\":\"%s\"}%n",
                    m.id(), m.synthetic(), m.config().weightType(), m.options().threads(), promptTokens,
                    genTokens, repetitions, r.ppMedian(), r.tgMedian(), runs(r.pp()), runs(r.tg()), bandwidth / 1e9,
                    m.decodeBytesPerToken(), bound, VectorWidth.CURRENT.bits(), cpuTime ? "thread_cpu" : "wall",
                    jvmLine());
            return;
        }
        out.println(EngineCli.describe(m));
        out.println(jvmLine() + (cpuTime ? "; timed by thread CPU time" : ""));
        out.printf(Locale.ROOT, "%-40s %-6s %7s %-7s %12s %12s %12s%n", "model", "type", "threads", "test",
                "tok/s (med)", "min", "max");
        row(out, m, "pp" + promptTokens, r.pp());
        row(out, m, "tg" + genTokens, r.tg());
        if (roofline) {
            out.printf(Locale.ROOT, "streaming read %.1f GB/s with %d threads; decode reads %.1f MB of weights"
                            + " per token: bound %.1f tok/s if they come from memory (tg128 reaches %.0f%%)%n",
                    bandwidth / 1e9, m.options().threads(), m.decodeBytesPerToken() / 1e6, bound,
                    100 * r.tgMedian() / bound);
        }
        if (r.tgStages()[Model.Stage.QKV.ordinal()] > 0) {
            out.println("time per stage (-Dwarmroute.engine.profile=true), % of the measured runs:");
            for (Model.Stage st : Model.Stage.values()) {
                out.printf(Locale.ROOT, "  %-16s pp %5.1f%%  tg %5.1f%%%n", st,
                        100.0 * r.ppStages()[st.ordinal()] / sum(r.ppStages()),
                        100.0 * r.tgStages()[st.ordinal()] / sum(r.tgStages()));
            }
        }
    }

    private static void row(PrintWriter out, Model m, String test, double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        out.printf(Locale.ROOT, "%-40s %-6s %7d %-7s %12.1f %12.1f %12.1f%n", m.id() + (m.synthetic() ? " (synth)" : ""),
                m.config().weightType(), m.options().threads(), test, EngineMeasurement.median(v), s[0],
                s[s.length - 1]);
    }

    private static double sum(long[] v) {
        double s = 0;
        for (long x : v) {
            s += x;
        }
        return Math.max(s, 1);
    }

    static String runs(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.2f", v[i]));
        }
        return sb.append(']').toString();
    }
}
