package dev.warmroute.cli;

import dev.warmroute.engine.Model;
import dev.warmroute.engine.tensor.VectorWidth;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's llama-bench and this engine on the same GGUF files, in alternation: for each round and model, first
 * llama-bench (a child process: {@code -m FILE -t T -p P -n N -r R -o json}), then this engine in this JVM (the
 * model loaded once, warm-up excluded each time). Alternating in the same minutes keeps the ratio meaningful on a
 * shared machine whose speed drifts; the ratio is taken round by round and the median reported.
 */
final class LlamaBenchComparison {

    private static final Pattern OBJECT = Pattern.compile("\\{[^{}]*\\}");
    private static final long TIMEOUT_MINUTES = 30;

    private final Path llamaBench;
    private final List<Path> models;
    private final int threads;
    private final int promptTokens;
    private final int genTokens;
    private final int repetitions;
    private final int rounds;
    private final boolean json;

    LlamaBenchComparison(Path llamaBench, List<Path> models, int threads, int promptTokens, int genTokens,
                         int repetitions, int rounds, boolean json) {
        this.llamaBench = llamaBench;
        this.models = models;
        this.threads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        this.promptTokens = promptTokens;
        this.genTokens = genTokens;
        this.repetitions = repetitions;
        this.rounds = rounds;
        this.json = json;
    }

    /** One model's figures, one entry per round. */
    private record Row(String model, String type, double[] llamaPp, double[] llamaTg, double[] ourPp, double[] ourTg,
                       String llamaBuild) {}

    void run(PrintWriter out) throws IOException, InterruptedException {
        String loadBefore = loadAverage();
        List<Model> loaded = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        try {
            for (Path p : models) {
                Model m = EngineCli.load(p, threads);
                loaded.add(m);
                rows.add(new Row(m.id(), m.config().weightType(), new double[rounds], new double[rounds],
                        new double[rounds], new double[rounds], ""));
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < models.size(); i++) {
                    double[] llama = llamaBench(models.get(i), rows, i);
                    EngineMeasurement ours = EngineMeasurement.run(loaded.get(i), promptTokens, genTokens,
                            repetitions);
                    Row row = rows.get(i);
                    row.llamaPp()[r] = llama[0];
                    row.llamaTg()[r] = llama[1];
                    row.ourPp()[r] = ours.ppMedian();
                    row.ourTg()[r] = ours.tgMedian();
                    if (!json) {
                        System.err.printf(Locale.ROOT, "round %d/%d %s: llama.cpp pp %.1f tg %.1f, warmroute pp %.1f"
                                        + " tg %.1f%n", r + 1, rounds, row.model(), llama[0], llama[1],
                                ours.ppMedian(), ours.tgMedian());
                    }
                }
            }
        } finally {
            loaded.forEach(Model::close);
        }
        String loadAfter = loadAverage();
        String pp = "pp" + promptTokens;
        String tg = "tg" + genTokens;
        if (json) {
            StringBuilder sb = new StringBuilder("{\"llama_bench\":\"").append(escape(llamaBench.toString()))
                    .append("\",\"threads\":").append(threads).append(",\"prompt_tokens\":").append(promptTokens)
                    .append(",\"gen_tokens\":").append(genTokens).append(",\"repetitions\":").append(repetitions)
                    .append(",\"rounds\":").append(rounds).append(",\"vector_bits\":")
                    .append(VectorWidth.CURRENT.bits()).append(",\"jvm\":\"")
                    .append(escape(BenchEngineCommand.jvmLine())).append("\",\"cpu_flags\":\"").append(cpuFlags())
                    .append("\",\"load_before\":\"").append(loadBefore).append("\",\"load_after\":\"")
                    .append(loadAfter).append("\",\"models\":[");
            for (int i = 0; i < rows.size(); i++) {
                Row row = rows.get(i);
                sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "{\"model\":\"%s\",\"type\":\"%s\","
                                + "\"llama_build\":\"%s\",\"llama_pp_tok_s\":%.2f,\"pp_tok_s\":%.2f,\"pp_ratio\":%.3f,"
                                + "\"llama_tg_tok_s\":%.2f,\"tg_tok_s\":%.2f,\"tg_ratio\":%.3f,\"llama_pp_runs\":%s,"
                                + "\"pp_runs\":%s,\"llama_tg_runs\":%s,\"tg_runs\":%s}", escape(row.model()),
                        row.type(), escape(row.llamaBuild()), EngineMeasurement.median(row.llamaPp()),
                        EngineMeasurement.median(row.ourPp()), ratio(row.ourPp(), row.llamaPp()),
                        EngineMeasurement.median(row.llamaTg()), EngineMeasurement.median(row.ourTg()),
                        ratio(row.ourTg(), row.llamaTg()), BenchEngineCommand.runs(row.llamaPp()),
                        BenchEngineCommand.runs(row.ourPp()), BenchEngineCommand.runs(row.llamaTg()),
                        BenchEngineCommand.runs(row.ourTg())));
            }
            out.println(sb.append("]}"));
            return;
        }
        out.println("llama-bench: " + llamaBench + (rows.isEmpty() ? "" : " (build " + rows.get(0).llamaBuild()
                + ")"));
        out.println("warmroute:   " + BenchEngineCommand.jvmLine());
        out.println("cpu flags:   " + cpuFlags() + "; load average before " + loadBefore + ", after " + loadAfter);
        out.printf(Locale.ROOT, "%d threads, %s and %s, %d repetitions per run, %d rounds in alternation; medians over"
                + " rounds, ratio = median of the per-round ratios (warmroute / llama.cpp)%n", threads, pp, tg,
                repetitions, rounds);
        out.printf(Locale.ROOT, "%-36s %-6s %14s %14s %7s %14s %14s %7s%n", "model", "type", "llama.cpp " + pp,
                "warmroute " + pp, "ratio", "llama.cpp " + tg, "warmroute " + tg, "ratio");
        for (Row row : rows) {
            out.printf(Locale.ROOT, "%-36s %-6s %14.1f %14.1f %6.2fx %14.1f %14.1f %6.2fx%n", row.model(), row.type(),
                    EngineMeasurement.median(row.llamaPp()), EngineMeasurement.median(row.ourPp()),
                    ratio(row.ourPp(), row.llamaPp()), EngineMeasurement.median(row.llamaTg()),
                    EngineMeasurement.median(row.ourTg()), ratio(row.ourTg(), row.llamaTg()));
        }
    }

    /** Runs llama-bench once on the model; returns {pp tok/s, tg tok/s} (llama-bench's avg_ts). */
    private double[] llamaBench(Path model, List<Row> rows, int i) throws IOException, InterruptedException {
        List<String> cmd = List.of(llamaBench.toString(), "-m", model.toString(), "-t", Integer.toString(threads),
                "-p", Integer.toString(promptTokens), "-n", Integer.toString(genTokens), "-r",
                Integer.toString(repetitions), "-o", "json");
        Path log = Files.createTempFile("llama-bench", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new UserError("llama-bench did not finish within " + TIMEOUT_MINUTES + " minutes: " + cmd);
            }
            if (p.exitValue() != 0) {
                throw new UserError("llama-bench failed (exit " + p.exitValue() + "): " + String.join(" ", cmd) + "\n"
                        + tail(Files.readString(log)));
            }
            double[] result = parse(stdout, promptTokens, genTokens);
            Row row = rows.get(i);
            if (row.llamaBuild().isEmpty()) {
                rows.set(i, new Row(row.model(), row.type(), row.llamaPp(), row.llamaTg(), row.ourPp(), row.ourTg(),
                        field(stdout, "build_commit")));
            }
            return result;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** From llama-bench's JSON array: avg_ts of the test with n_prompt = pp (n_gen 0) and with n_gen = tg. */
    static double[] parse(String json, int pp, int tg) {
        double[] out = {Double.NaN, Double.NaN};
        Matcher m = OBJECT.matcher(json);
        while (m.find()) {
            String o = m.group();
            long prompt = Long.parseLong(field(o, "n_prompt"));
            long gen = Long.parseLong(field(o, "n_gen"));
            double ts = Double.parseDouble(field(o, "avg_ts"));
            if (prompt == pp && gen == 0) {
                out[0] = ts;
            } else if (gen == tg && prompt == 0) {
                out[1] = ts;
            }
        }
        if (Double.isNaN(out[0]) || Double.isNaN(out[1])) {
            throw new UserError("llama-bench printed no pp" + pp + "/tg" + tg + " result: " + tail(json));
        }
        return out;
    }

    private static String field(String object, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"?([^\",}]*)").matcher(object);
        if (!m.find()) {
            throw new UserError("llama-bench's JSON has no field " + name + ": " + tail(object));
        }
        return m.group(1).strip();
    }

    private static double ratio(double[] ours, double[] theirs) {
        double[] r = new double[ours.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = ours[i] / theirs[i];
        }
        return EngineMeasurement.median(r);
    }

    static String cpuFlags() {
        try {
            String info = Files.readString(Path.of("/proc/cpuinfo"));
            StringBuilder sb = new StringBuilder();
            for (String f : new String[] {"avx512f", "avx2", "fma", "f16c", "asimd", "sve"}) {
                if (Pattern.compile("\\b" + f + "\\b").matcher(info).find()) {
                    sb.append(sb.isEmpty() ? "" : " ").append(f);
                }
            }
            return sb.toString();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String tail(String s) {
        return s.length() <= 2000 ? s : "..." + s.substring(s.length() - 2000);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
