package dev.warmroute.engine.tensor;

import dev.warmroute.engine.RandomLlama;
import dev.warmroute.engine.gguf.GgmlType;
import dev.warmroute.engine.gguf.GgufTensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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
 */
public final class KernelBench {
    private KernelBench() {}

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
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
        Tensor m = Tensor.load(new GgufTensorInfo("w", new long[] {cols, rows}, t, 0),
                MemorySegment.ofArray(RandomLlama.encode(w, type)));
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
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

    private static long cpu(Tensor m, float[] x, float[] y, float[] scratch, int tokens, int reps) {
        long c0 = MX.getCurrentThreadCpuTime();
        for (int i = 0; i < reps; i++) {
            m.matmul(x, 0, m.cols(), tokens, y, 0, m.rows(), 0, m.panels(), scratch);
        }
        return MX.getCurrentThreadCpuTime() - c0;
    }
}
