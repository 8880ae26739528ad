package dev.warmroute.engine.tensor;

import dev.warmroute.engine.RandomLlama;
import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A microbenchmark of the matrix kernels at this JVM's vector width, on one thread, timed by the thread's CPU time
 * (steady on a shared machine; the best of many trials after a warm-up long enough for C2). Prints one row per
 * (type, tokens): GFLOP/s and the weight bytes read per second. Run from the repository root after
 * {@code bin/test -pl engine -DskipTests}:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Dwarmroute.engine.vector=256 \
 *   -cp engine/target/classes:engine/target/test-classes dev.warmroute.engine.tensor.KernelBench [ROWS COLS SECONDS]
 * </pre>
 *
 * <p>{@code KernelBench layers [TYPE DIM HIDDEN LAYERS SECONDS [decode-too]]} (default f32 288 768 6 4: the 15M
 * shape) runs the matrix products of a whole model's layers in the forward pass's order on 64 tokens, each layer
 * with its own weights, so the weights stream from memory as in the model: what the matrix stages of a prefill
 * chunk would cost without attention, norms and threads (best and median pass). {@code decode-too} also runs one
 * token through them between passes (untimed), so that the JIT sees both paths, as in the engine.
 */
public final class KernelBench {
    private KernelBench() {}

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("layers")) {
            layers(args);
            return;
        }
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int cols = args.length > 1 ? Integer.parseInt(args[1]) : 768;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 4;
        System.out.println("kernels: " + VectorWidth.describe() + "; matrix " + rows + " x " + cols
                + "; one thread, thread CPU time, best trial");
        System.out.printf(Locale.ROOT, "%-6s %6s %10s %10s %10s%n", "type", "tokens", "GFLOP/s", "GB/s", "us/call");
        for (String type : new String[] {"f32", "f16", "q8_0", "q4_0"}) {
            for (int tokens : new int[] {1, 64}) {
                run(type, rows, cols, tokens, seconds);
            }
        }
    }

    private static void run(String type, int rows, int cols, int tokens, double seconds) {
        SplittableRandom r = new SplittableRandom(1);
        Tensor m = tensor(type, rows, cols, r);
        float[] x = random(tokens * cols, r);
        float[] y = new float[tokens * rows];
        float[] scratch = new float[Math.max(1, m.scratchFloats())];
        int reps = 1;
        while (cpu(m, x, y, scratch, tokens, reps) < 20_000_000) {
            reps *= 2;
        }
        double best = Double.MAX_VALUE;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long warm = System.nanoTime() + (long) (seconds * 0.5e9); // C2 compiles during the first half
        while (System.nanoTime() < end) {
            double ns = cpu(m, x, y, scratch, tokens, reps) / (double) reps;
            if (System.nanoTime() > warm) {
                best = Math.min(best, ns);
            }
        }
        System.out.printf(Locale.ROOT, "%-6s %6d %10.1f %10.1f %10.1f%n", type, tokens,
                2.0 * rows * cols * tokens / best, m.bytes() / best, best / 1e3);
    }

    private static void layers(String[] args) {
        String type = args.length > 1 ? args[1] : "f32";
        int dim = args.length > 2 ? Integer.parseInt(args[2]) : 288;
        int hidden = args.length > 3 ? Integer.parseInt(args[3]) : 768;
        int layers = args.length > 4 ? Integer.parseInt(args[4]) : 6;
        double seconds = args.length > 5 ? Double.parseDouble(args[5]) : 4;
        boolean decodeToo = args.length > 6 && args[6].equals("decode-too");
        int tokens = 64;
        SplittableRandom r = new SplittableRandom(1);
        // per layer: wq, wk, wv, wo (dim x dim), gate, up (hidden x dim), down (dim x hidden)
        Tensor[][] w = new Tensor[layers][7];
        long macs = 0;
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < 7; i++) {
                int rows = i < 4 ? dim : i < 6 ? hidden : dim;
                int cols = i < 6 ? dim : hidden;
                w[l][i] = tensor(type, rows, cols, r);
                macs += (long) rows * cols * tokens;
            }
        }
        float[] x = random(tokens * Math.max(dim, hidden), r);
        float[] y = new float[tokens * Math.max(dim, hidden)];
        float[] scratch = new float[Math.max(dim, hidden) * PanelKernels.PANEL];
        List<Double> passes = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long warm = System.nanoTime() + (long) (seconds * 0.5e9);
        while (System.nanoTime() < end) {
            if (decodeToo) { // as in the engine: the same kernels also run one token at a time (untimed)
                for (Tensor[] layer : w) {
                    for (Tensor m : layer) {
                        m.matmul(x, 0, m.cols(), 1, y, 0, m.rows(), 0, m.panels(), scratch);
                    }
                }
            }
            long c0 = MX.getCurrentThreadCpuTime();
            for (Tensor[] layer : w) {
                for (Tensor m : layer) {
                    m.matmul(x, 0, m.cols(), tokens, y, 0, m.rows(), 0, m.panels(), scratch);
                }
            }
            double ns = MX.getCurrentThreadCpuTime() - c0;
            if (System.nanoTime() > warm) {
                passes.add(ns);
            }
        }
        Collections.sort(passes);
        double best = passes.getFirst();
        double median = passes.get(passes.size() / 2);
        System.out.printf(Locale.ROOT, "layers: %s, %d layers of dim %d, hidden %d, %d tokens, one thread, CPU time:"
                + " best %.1f GFLOP/s, median %.1f (%d passes, best %.0f us)%n", type, layers, dim, hidden, tokens,
                2.0 * macs / best, 2.0 * macs / median, passes.size(), best / 1e3);
    }

    private static Tensor tensor(String type, int rows, int cols, SplittableRandom r) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        GgmlType t = switch (type) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> GgmlType.Q4_0;
        };
        return Tensor.load(new GgufTensorInfo("w", new long[] {cols, rows}, t, 0),
                MemorySegment.ofArray(RandomLlama.encode(w, type)));
    }

    private static float[] random(int n, SplittableRandom r) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private static long cpu(Tensor m, float[] x, float[] y, float[] scratch, int tokens, int reps) {
        long c0 = MX.getCurrentThreadCpuTime();
        for (int i = 0; i < reps; i++) {
            m.matmul(x, 0, m.cols(), tokens, y, 0, m.rows(), 0, m.panels(), scratch);
        }
        return MX.getCurrentThreadCpuTime() - c0;
    }
}
