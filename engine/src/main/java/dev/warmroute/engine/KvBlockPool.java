package dev.warmroute.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Storage for KV caches: blocks of {@link #BLOCK_TOKENS} token positions (all layers, K and V), handed out against a
 * byte budget. Allocation is all-or-nothing so the worker's cache manager can evict whole sessions and retry.
 * Released blocks are kept for reuse (never more than the budget in total), so a busy worker does not churn the GC.
 *
 * <p>Block layout (floats), per layer l at {@code l * 2 * kvDim * 16}: keys transposed {@code [kvHead][headDim][16]}
 * so the attention scores of 16 positions are one vector FMA chain over the head dimension, then values
 * {@code [kvHead][16][headDim]}. Thread-safe.
 */
public final class KvBlockPool {

    /** Token positions per block: one 512-bit vector of floats. */
    public static final int BLOCK_TOKENS = 16;

    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int blockFloats;
    private final long blockBytes;
    private final long budget;
    private final ArrayDeque<float[]> free = new ArrayDeque<>();
    private long used;

    public KvBlockPool(ModelConfig config, long byteBudget) {
        this.layers = config.layers();
        this.kvHeads = config.kvHeads();
        this.headDim = config.headDim();
        this.blockFloats = 2 * layers * config.kvDim() * BLOCK_TOKENS;
        this.blockBytes = (long) blockFloats * Float.BYTES;
        if (byteBudget < blockBytes) {
            throw new IllegalArgumentException("KV byte budget " + byteBudget + " is smaller than one block ("
                    + blockBytes + " bytes = " + BLOCK_TOKENS + " positions of " + config.kvBytesPerToken()
                    + " bytes)");
        }
        this.budget = byteBudget;
    }

    public long byteBudget() {
        return budget;
    }

    public synchronized long bytesUsed() {
        return used;
    }

    public synchronized long bytesFree() {
        return budget - used;
    }

    public long blockBytes() {
        return blockBytes;
    }

    int blockFloats() {
        return blockFloats;
    }

    boolean fits(ModelConfig c) {
        return c.layers() == layers && c.kvHeads() == kvHeads && c.headDim() == headDim;
    }

    /** n blocks, or KvBudgetExceededException with nothing allocated. */
    synchronized List<float[]> allocate(int n) {
        long need = n * blockBytes;
        if (need > budget - used) {
            throw new KvBudgetExceededException(need, budget - used, budget);
        }
        List<float[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] b = free.poll();
            out.add(b != null ? b : new float[blockFloats]);
        }
        used += need;
        return out;
    }

    synchronized void release(List<float[]> blocks) {
        for (float[] b : blocks) {
            free.push(b);
        }
        used -= blocks.size() * blockBytes;
    }

    @Override
    public synchronized String toString() {
        return "KvBlockPool[used=" + used + ", budget=" + budget + ", block=" + blockBytes + " bytes]";
    }
}
