package dev.warmroute.cli;

import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.engine.KvCache;
import dev.warmroute.engine.Model;
import dev.warmroute.engine.Sampler;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Prefill and decode speed measured as llama-bench does: ppN = N prompt tokens prefilled into an empty cache in one
 * call; tgN = N decode steps of one token each, starting from an empty cache. One warm-up run of each is excluded
 * (the JIT compiles during it); callers report the median over the repetitions. With {@code cpuTime} the clock is
 * the calling thread's CPU time instead of the wall clock: with one engine thread (which then runs every region
 * itself) that is the speed the machine gives when nothing else competes for the core, a figure that stays put on
 * a shared, loaded machine where wall-clock figures drift (caches and memory bandwidth are still shared).
 *
 * @param pp       tokens/s of each prefill run
 * @param tg       tokens/s of each decode run
 * @param ppStages nanoseconds per forward stage during the measured prefill runs (zero without profiling)
 * @param tgStages the same for the measured decode runs
 */
record EngineMeasurement(double[] pp, double[] tg, long[] ppStages, long[] tgStages) {

    static EngineMeasurement run(Model m, int promptTokens, int genTokens, int repetitions) {
        return run(m, promptTokens, genTokens, repetitions, false);
    }

    static EngineMeasurement run(Model m, int promptTokens, int genTokens, int repetitions, boolean cpuTime) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.function.LongSupplier clock = cpuTime ? mx::getCurrentThreadCpuTime : System::nanoTime;
        KvBlockPool pool = new KvBlockPool(m.config(),
                m.kvBytesPerToken() * (Math.max(promptTokens, genTokens) + KvBlockPool.BLOCK_TOKENS));
        int[] prompt = new SplittableRandom(1234).ints(promptTokens, 0, m.config().vocabSize()).toArray();
        double[] pp = new double[repetitions];
        double[] tg = new double[repetitions];
        long[] stages0 = null;
        for (int r = -1; r < repetitions; r++) {
            if (r == 0) {
                stages0 = m.stageNanos(); // after the warm-up run
            }
            KvCache cache = m.newCache(pool);
            long t0 = clock.getAsLong();
            m.forward(cache, prompt, 0, prompt.length);
            long t1 = clock.getAsLong();
            cache.release();
            if (r >= 0) {
                pp[r] = promptTokens / ((t1 - t0) / 1e9);
            }
        }
        long[] ppStages = minus(m.stageNanos(), stages0);
        long[] tgStart = null;
        for (int r = -1; r < repetitions; r++) {
            if (r == 0) {
                tgStart = m.stageNanos();
            }
            KvCache cache = m.newCache(pool);
            int token = m.hasTokenizer() && m.tokenizer().bos() >= 0 ? m.tokenizer().bos() : 0;
            int[] one = new int[1];
            long t0 = clock.getAsLong();
            for (int i = 0; i < genTokens; i++) {
                one[0] = token;
                token = Sampler.argmax(m.forward(cache, one, 0, 1));
            }
            long t1 = clock.getAsLong();
            cache.release();
            if (r >= 0) {
                tg[r] = genTokens / ((t1 - t0) / 1e9);
            }
        }
        return new EngineMeasurement(pp, tg, ppStages, minus(m.stageNanos(), tgStart));
    }

    private static long[] minus(long[] a, long[] b) {
        long[] d = a.clone();
        for (int i = 0; i < d.length; i++) {
            d[i] -= b[i];
        }
        return d;
    }

    double ppMedian() {
        return median(pp);
    }

    double tgMedian() {
        return median(tg);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
