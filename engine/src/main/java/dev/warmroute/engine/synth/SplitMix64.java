package dev.warmroute.engine.synth;

/**
 * SplitMix64 with Box-Muller normals, written out so that synthetic weights are a pure function of the seed: the
 * JDK's generators do not promise the same sequence across releases, and {@code Math.log} may differ by an ulp
 * between platforms ({@code StrictMath} does not).
 */
final class SplitMix64 {
    private long state;
    private double spare;
    private boolean hasSpare;

    SplitMix64(long seed) {
        this.state = seed;
    }

    long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in (0, 1]: never 0, so the logarithm below is finite. */
    double nextDouble() {
        return ((nextLong() >>> 11) + 1) * 0x1.0p-53;
    }

    double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double radius = StrictMath.sqrt(-2 * StrictMath.log(nextDouble()));
        double angle = 2 * Math.PI * nextDouble();
        spare = radius * StrictMath.sin(angle);
        hasSpare = true;
        return radius * StrictMath.cos(angle);
    }
}
