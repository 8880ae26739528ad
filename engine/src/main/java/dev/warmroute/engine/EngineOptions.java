package dev.warmroute.engine;

/**
 * Engine settings, validated by the builder.
 *
 * @param threads      compute threads for one forward pass (all cores by default)
 * @param prefillChunk tokens that go through a layer together during prefill (matrix-matrix work): larger chunks
 *                     reuse each weight panel for more tokens; 64 keeps activations in L2 for the shapes we run
 * @param minParallelWork multiply-adds below which a step of the forward pass (one matrix, attention of a layer)
 *                     runs on the calling thread alone: waking and joining the other threads costs about a
 *                     microsecond, more than splitting a small step saves (all of a small model's decode step)
 */
public record EngineOptions(int threads, int prefillChunk, long minParallelWork) {

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

        public EngineOptions build() {
            int t = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
            return new EngineOptions(Math.min(t, MAX_THREADS), prefillChunk, minParallelWork);
        }
    }
}
