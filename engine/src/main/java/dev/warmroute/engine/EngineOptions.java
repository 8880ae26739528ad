package dev.warmroute.engine;

/**
 * Engine settings, validated by the builder.
 *
 * @param threads      compute threads for one forward pass (all cores by default)
 * @param prefillChunk tokens that go through a layer together during prefill (matrix-matrix work): larger chunks
 *                     reuse each weight panel for more tokens; 64 keeps activations in L2 for the shapes we run
 */
public record EngineOptions(int threads, int prefillChunk) {

    public static final int MAX_THREADS = 256;
    public static final int MAX_PREFILL_CHUNK = 1024;

    public EngineOptions {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be 1.." + MAX_THREADS + ", got " + threads);
        }
        if (prefillChunk < 1 || prefillChunk > MAX_PREFILL_CHUNK) {
            throw new IllegalArgumentException("prefillChunk must be 1.." + MAX_PREFILL_CHUNK + ", got "
                    + prefillChunk);
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

        public EngineOptions build() {
            int t = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
            return new EngineOptions(Math.min(t, MAX_THREADS), prefillChunk);
        }
    }
}
