package dev.warmroute.engine;

import dev.warmroute.engine.tensor.VectorWidth;

/**
 * Engine settings, validated by the builder.
 *
 * @param threads      compute threads for one forward pass (all cores by default)
 * @param prefillChunk tokens that go through a layer together during prefill (matrix-matrix work): larger chunks
 *                     reuse each weight panel for more tokens; 64 keeps activations in L2 for the shapes we run
 * @param minParallelWork multiply-adds below which a step of the forward pass (one matrix, attention of a layer)
 *                     runs on the calling thread alone: waking and joining the other threads costs about a
 *                     microsecond, more than splitting a small step saves (all of a small model's decode step)
 * @param vectorWidth  the kernels' vector width. It is chosen once per JVM ({@link VectorWidth#CURRENT}: the widest
 *                     the machine runs, or {@code -Dwarmroute.engine.vector}), because the kernels keep it in
 *                     constants the JIT folds; this field states it, and a value other than the JVM's fails with a
 *                     message saying which property to set. Every width gives the same bits.
 */
public record EngineOptions(int threads, int prefillChunk, long minParallelWork, VectorWidth vectorWidth) {

    public static final int MAX_THREADS = 256;
    public static final int MAX_PREFILL_CHUNK = 1024;
    public static final long DEFAULT_MIN_PARALLEL_WORK = 65_536;

    public EngineOptions {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be 1.." + MAX_THREADS + ", got " + threads);
        }
        if (prefillChunk < 1 || prefillChunk > MAX_PREFILL_CHUNK) {
            throw new IllegalArgumentException("prefillChunk must be 1.." + MAX_PREFILL_CHUNK + ", got "
                    + prefillChunk);
        }
        if (minParallelWork < 0) {
            throw new IllegalArgumentException("minParallelWork must be >= 0, got " + minParallelWork);
        }
        VectorWidth.requireValid();
        if (vectorWidth == null) {
            throw new IllegalArgumentException("vectorWidth must be set (VectorWidth.CURRENT is this JVM's)");
        }
        VectorWidth hardware = VectorWidth.hardware();
        if (vectorWidth.bits() > hardware.bits()) {
            throw new IllegalArgumentException("vectorWidth " + vectorWidth.label() + " is wider than this machine's "
                    + hardware.label() + " (" + VectorWidth.hardwareReason() + "); -D" + VectorWidth.PROPERTY
                    + " and EngineOptions.vectorWidth accept at most " + hardware.label());
        }
        if (vectorWidth != VectorWidth.CURRENT) {
            throw new IllegalArgumentException("vectorWidth " + vectorWidth.label() + " differs from this JVM's "
                    + VectorWidth.CURRENT.label() + " kernels: the width is fixed when the JVM starts; start it with"
                    + " -D" + VectorWidth.PROPERTY + "=" + (vectorWidth == VectorWidth.SCALAR ? "scalar"
                    : vectorWidth.bits()));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public static EngineOptions defaults() {
        return builder().build();
    }

    public static final class Builder {
        private int threads = 0;
        private int prefillChunk = 64;
        private long minParallelWork = Long.getLong("warmroute.engine.minParallelWork", DEFAULT_MIN_PARALLEL_WORK);
        private VectorWidth vectorWidth = VectorWidth.CURRENT;

        /** 0 means all available processors. */
        public Builder threads(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
            }
            this.threads = threads;
            return this;
        }

        public Builder prefillChunk(int tokens) {
            this.prefillChunk = tokens;
            return this;
        }

        /** 0 splits every step across the threads. */
        public Builder minParallelWork(long multiplyAdds) {
            this.minParallelWork = multiplyAdds;
            return this;
        }

        /** The kernels' width: must be this JVM's ({@link VectorWidth#CURRENT}, the default); see the record. */
        public Builder vectorWidth(VectorWidth width) {
            this.vectorWidth = width;
            return this;
        }

        public EngineOptions build() {
            int t = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
            return new EngineOptions(Math.min(t, MAX_THREADS), prefillChunk, minParallelWork, vectorWidth);
        }
    }
}
