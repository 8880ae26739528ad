package dev.warmroute.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Streaming read bandwidth of this machine right now, for the decode roofline in benchmarks: decoding one token reads
 * every weight once, so bytes per token / bandwidth bounds decode speed from above when the weights exceed the
 * caches. Measured, not assumed: on a shared machine it moves with the neighbours' load.
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Best of several passes over a 256 MiB array, split over {@code threads} threads; bytes per second. */
    public static double measure(int threads) throws InterruptedException {
        int n = 64 << 20;
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        double best = 0;
        float[] sink = new float[threads];
        for (int pass = 0; pass < 6; pass++) {
            Thread[] ts = new Thread[threads];
            int per = n / threads / (4 * S.length()) * (4 * S.length());
            long t0 = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int part = t;
                ts[t] = new Thread(() -> sink[part] = sum(a, part * per, part * per + per));
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join();
            }
            long t1 = System.nanoTime();
            best = Math.max(best, 4.0 * per * threads / ((t1 - t0) / 1e9));
        }
        return best;
    }

    private static float sum(float[] a, int from, int to) {
        FloatVector s0 = FloatVector.zero(S);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int l = S.length();
        for (int i = from; i < to; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(S, a, i));
            s1 = s1.add(FloatVector.fromArray(S, a, i + l));
            s2 = s2.add(FloatVector.fromArray(S, a, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(S, a, i + 3 * l));
        }
        float[] out = new float[l];
        s0.add(s1).add(s2).add(s3).intoArray(out, 0);
        return out[0];
    }
}
