package dev.warmroute.cli;

import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.engine.KvCache;
import dev.warmroute.engine.Model;
import dev.warmroute.engine.Sampler;
import dev.warmroute.engine.tensor.Simd;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Prefill and decode speed measured as llama-bench does: ppN = N prompt tokens prefilled into an empty cache in one
 * call; tgN = N decode steps of one token each, starting from an empty cache. One warm-up run of each is excluded
 * (the JIT compiles during it); the figure is the median over the repetitions.
 */
@Command(name = "engine", description = {
        "Measure engine prefill (ppN) and decode (tgN) tokens/s like llama-bench: empty cache, warm-up excluded,",
        "median of repetitions. Prints a table, or JSON with pp_tok_s and tg_tok_s."})
final class BenchEngineCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", description = "GGUF model file (llama architecture).")
    Path model;

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

    @Override
    public Integer call() throws InterruptedException {
        if (promptTokens < 1 || genTokens < 1) {
            throw new UserError("--prompt-tokens and --gen-tokens must be >= 1");
        }
        if (repetitions < 1 || repetitions > 1000) {
            throw new UserError("--repetitions must be 1..1000, got " + repetitions);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = EngineCli.load(model, threads)) {
            int ctx = m.config().contextLength();
            if (promptTokens > ctx || genTokens > ctx) {
                throw new UserError("--prompt-tokens " + promptTokens + " / --gen-tokens " + genTokens
                        + " exceed the model's context length " + ctx);
            }
            KvBlockPool pool = new KvBlockPool(m.config(),
                    m.kvBytesPerToken() * (Math.max(promptTokens, genTokens) + KvBlockPool.BLOCK_TOKENS));
            int[] prompt = new SplittableRandom(1234).ints(promptTokens, 0, m.config().vocabSize()).toArray();
            long[] ppStages = null;
            double[] pp = new double[repetitions];
            double[] tg = new double[repetitions];
            for (int r = -1; r < repetitions; r++) {
                KvCache cache = m.newCache(pool);
                long t0 = System.nanoTime();
                m.forward(cache, prompt, 0, prompt.length);
                long t1 = System.nanoTime();
                cache.release();
                if (r >= 0) {
                    pp[r] = promptTokens / ((t1 - t0) / 1e9);
                }
                if (r == -1) {
                    ppStages = m.stageNanos();
                } else if (r == repetitions - 1) {
                    long[] now = m.stageNanos();
                    for (int i = 0; i < now.length; i++) {
                        ppStages[i] = now[i] - ppStages[i];
                    }
                    ppStagesDone = ppStages;
                }
            }
            long[] tgStart = null;
            for (int r = -1; r < repetitions; r++) {
                if (r == 0) {
                    tgStart = m.stageNanos(); // after the warm-up run
                }
                KvCache cache = m.newCache(pool);
                int token = m.hasTokenizer() && m.tokenizer().bos() >= 0 ? m.tokenizer().bos() : 0;
                int[] one = new int[1];
                long t0 = System.nanoTime();
                for (int i = 0; i < genTokens; i++) {
                    one[0] = token;
                    token = Sampler.argmax(m.forward(cache, one, 0, 1));
                }
                long t1 = System.nanoTime();
                cache.release();
                if (r >= 0) {
                    tg[r] = genTokens / ((t1 - t0) / 1e9);
                }
            }
 long[] tgStages = m.stageNanos();
            for (int i = 0; i < tgStages.length; i++) {
                tgStages[i] -= tgStart[i];
            }
            double bandwidth = roofline ? dev.warmroute.engine.MemoryBandwidth.measure(m.options().threads()) : 0;
            double bound = bandwidth / m.decodeBytesPerToken();
            String jvm = "java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
                    + " cores, " + Simd.describe();
            if (json) {
                out.printf(Locale.ROOT, "{\"model\":\"%s\",\"synthetic\":%s,\"type\":\"%s\",\"threads\":%d,"
                                + "\"prompt_tokens\":%d,\"gen_tokens\":%d,\"repetitions\":%d,"
                                + "\"pp_tok_s\":%.2f,\"tg_tok_s\":%.2f,\"pp_runs\":%s,\"tg_runs\":%s,"
                                + "\"read_gb_s\":%.2f,\"decode_bytes_per_token\":%d,\"tg_bound_tok_s\":%.2f,"
                                + "\"jvm\":\"%s\"}%n",
                        m.id(), m.synthetic(), m.config().weightType(), m.options().threads(), promptTokens,
                        genTokens, repetitions, median(pp), median(tg), runs(pp), runs(tg), bandwidth / 1e9,
                        m.decodeBytesPerToken(), bound, jvm);
            } else {
                out.println(EngineCli.describe(m));
                out.println(jvm);
                out.printf(Locale.ROOT, "%-40s %-6s %7s %-7s %12s %12s %12s%n", "model", "type", "threads", "test",
                        "tok/s (med)", "min", "max");
                row(out, m, "pp" + promptTokens, pp);
                row(out, m, "tg" + genTokens, tg);
                if (roofline) {
                    out.printf(Locale.ROOT, "streaming read %.1f GB/s with %d threads; decode reads %.1f MB of weights"
                                    + " per token: bound %.1f tok/s if they come from memory%n", bandwidth / 1e9,
                            m.options().threads(), m.decodeBytesPerToken() / 1e6, bound);
                }
                if (tgStages[Model.Stage.QKV.ordinal()] > 0) {
                    out.println("time per stage (-Dwarmroute.engine.profile=true), % of the measured runs:");
                    for (Model.Stage st : Model.Stage.values()) {
                        out.printf(Locale.ROOT, "  %-16s pp %5.1f%%  tg %5.1f%%%n", st,
                                100.0 * ppStagesDone[st.ordinal()] / sum(ppStagesDone),
                                100.0 * tgStages[st.ordinal()] / sum(tgStages));
                    }
                }
            }
            out.flush();
            return 0;
        }
    }

    private static void row(PrintWriter out, Model m, String test, double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        out.printf(Locale.ROOT, "%-40s %-6s %7d %-7s %12.1f %12.1f %12.1f%n", m.id() + (m.synthetic() ? " (synth)" : ""),
                m.config().weightType(), m.options().threads(), test, median(v), s[0], s[s.length - 1]);
    }

    private long[] ppStagesDone = new long[Model.Stage.values().length];

    private static double sum(long[] v) {
        double s = 0;
        for (long x : v) {
            s += x;
        }
        return Math.max(s, 1);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static String runs(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.2f", v[i]));
        }
        return sb.append(']').toString();
    }
}
