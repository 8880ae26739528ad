package dev.warmroute.engine;

import static dev.warmroute.engine.KvBlockPool.BLOCK_TOKENS;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The keys and values of a token sequence, for one model, in blocks drawn from a {@link KvBlockPool}. Grows through
 * {@link Model#forward}; the caller can keep a common prefix ({@link #truncate}), move it between processes
 * ({@link #export}/{@link #importFrom}) and give its blocks back ({@link #release}).
 *
 * <p>Not thread-safe: one session uses a cache at a time (the worker serialises turns per session).
 */
public final class KvCache {

    private static final int MAGIC = 0x564B5257; // "WRKV"
    private static final int FORMAT = 1;

    private final KvBlockPool pool;
    private final ModelConfig config;
    private final String modelId;
    final List<float[]> blocks = new ArrayList<>();
    private int size;
    private int[] tokens = new int[64];

    KvCache(KvBlockPool pool, ModelConfig config, String modelId) {
        if (!pool.fits(config)) {
            throw new IllegalArgumentException("KV block pool was made for another model shape than " + modelId);
        }
        this.pool = pool;
        this.config = config;
        this.modelId = modelId;
    }

    /** Token positions held. */
    public int size() {
        return size;
    }

    /** Copy of the token ids held, in order. */
    public int[] tokens() {
        return Arrays.copyOf(tokens, size);
    }

    public String modelId() {
        return modelId;
    }

    /** Length of the longest common prefix of the held tokens and {@code prompt}. */
    public int commonPrefixLength(int[] prompt) {
        int n = Math.min(size, prompt.length);
        int i = 0;
        while (i < n && tokens[i] == prompt[i]) {
            i++;
        }
        return i;
    }

    /** Keeps the first n positions and returns whole blocks no longer needed to the pool. */
    public void truncate(int n) {
        if (n < 0 || n > size) {
            throw new IllegalArgumentException("truncate(" + n + "): must be 0.." + size + " (positions held)");
        }
        size = n;
        int keep = blocksFor(n);
        if (blocks.size() > keep) {
            List<float[]> tail = new ArrayList<>(blocks.subList(keep, blocks.size()));
            blocks.subList(keep, blocks.size()).clear();
            pool.release(tail);
        }
    }

    /**
     * Makes room for {@code totalTokens} positions in all, allocating every missing block at once or none
     * (KvBudgetExceededException, nothing changed). Blocks beyond the current size stay with the cache until
     * {@link #truncate} or {@link #release}.
     */
    public void ensureCapacity(int totalTokens) {
        if (totalTokens > config.contextLength()) {
            throw new ContextOverflowException(config.contextLength(), totalTokens);
        }
        int missing = blocksFor(totalTokens) - blocks.size();
        if (missing > 0) {
            blocks.addAll(pool.allocate(missing));
        }
    }

    /** Bytes of the blocks held. */
    public long sizeBytes() {
        return blocks.size() * pool.blockBytes();
    }

    /** Returns all blocks to the pool; the cache is empty afterwards (and may be used again). */
    public void release() {
        size = 0;
        if (!blocks.isEmpty()) {
            List<float[]> all = new ArrayList<>(blocks);
            blocks.clear();
            pool.release(all);
        }
    }

    KvBlockPool pool() {
        return pool;
    }

    static int blocksFor(int tokens) {
        return (tokens + BLOCK_TOKENS - 1) / BLOCK_TOKENS;
    }

    /** Records tokens whose keys/values were just written at positions size.. size + n. */
    void appended(int[] ids, int from, int n) {
        if (tokens.length < size + n) {
            tokens = Arrays.copyOf(tokens, Math.max(size + n, tokens.length * 2));
        }
        System.arraycopy(ids, from, tokens, size, n);
        size += n;
    }

    // Layout helpers (see KvBlockPool): offsets inside a block for layer l.
    int keyOffset(int layer, int kvHead) {
        return layer * 2 * config.kvDim() * BLOCK_TOKENS + kvHead * config.headDim() * BLOCK_TOKENS;
    }

    int valueOffset(int layer, int kvHead) {
        return layer * 2 * config.kvDim() * BLOCK_TOKENS + config.kvDim() * BLOCK_TOKENS
                + kvHead * BLOCK_TOKENS * config.headDim();
    }

    /** Stores the key and value rows (kvDim each) of one position of one layer. */
    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        float[] b = blocks.get(pos / BLOCK_TOKENS);
        int j = pos % BLOCK_TOKENS;
        int hd = config.headDim();
        for (int g = 0; g < config.kvHeads(); g++) {
            int ko = keyOffset(layer, g) + j;
            for (int d = 0; d < hd; d++) {
                b[ko + d * BLOCK_TOKENS] = k[kOff + g * hd + d];
            }
            System.arraycopy(v, vOff + g * hd, b, valueOffset(layer, g) + j * hd, hd);
        }
    }

    /** Reads back one position of one layer (export, tests). */
    void load(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        float[] b = blocks.get(pos / BLOCK_TOKENS);
        int j = pos % BLOCK_TOKENS;
        int hd = config.headDim();
        for (int g = 0; g < config.kvHeads(); g++) {
            int ko = keyOffset(layer, g) + j;
            for (int d = 0; d < hd; d++) {
                k[kOff + g * hd + d] = b[ko + d * BLOCK_TOKENS];
            }
            System.arraycopy(b, valueOffset(layer, g) + j * hd, v, vOff + g * hd, hd);
        }
    }

    /**
     * Self-describing bytes: header (format, model id, shape), token ids, then per position and layer the key and
     * value rows as little-endian floats (independent of the block layout).
     */
    public byte[] export() {
        byte[] id = modelId.getBytes(StandardCharsets.UTF_8);
        int kvDim = config.kvDim();
        long bytes = 4L * 7 + id.length + 4L * size + (long) size * config.layers() * 2 * kvDim * 4;
        if (bytes > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("KV cache of " + size + " positions is too large to export ("
                    + bytes + " bytes)");
        }
        ByteBuffer bb = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(MAGIC).putInt(FORMAT).putInt(id.length).put(id);
        bb.putInt(config.layers()).putInt(config.kvHeads()).putInt(config.headDim()).putInt(size);
        for (int i = 0; i < size; i++) {
            bb.putInt(tokens[i]);
        }
        float[] k = new float[kvDim];
        float[] v = new float[kvDim];
        for (int p = 0; p < size; p++) {
            for (int l = 0; l < config.layers(); l++) {
                load(l, p, k, 0, v, 0);
                for (float f : k) {
                    bb.putFloat(f);
                }
                for (float f : v) {
                    bb.putFloat(f);
                }
            }
        }
        return bb.array();
    }

    /**
     * Rebuilds a cache exported by {@link #export}, for {@code model}, with blocks from {@code pool}. Refuses a blob
     * of another model (id or shape) or a corrupt one with IllegalArgumentException naming the mismatch; throws
     * KvBudgetExceededException (nothing allocated) when the pool cannot hold it.
     */
    public static KvCache importFrom(byte[] blob, Model model, KvBlockPool pool) {
        ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        ModelConfig c = model.config();
        try {
            if (bb.getInt() != MAGIC) {
                throw new IllegalArgumentException("not an exported KV cache (bad magic)");
            }
            int format = bb.getInt();
            if (format != FORMAT) {
                throw new IllegalArgumentException("KV cache export format " + format + " is not supported ("
                        + FORMAT + " is)");
            }
            int idLen = bb.getInt();
            if (idLen < 0 || idLen > bb.remaining()) {
                throw new IllegalArgumentException("corrupt KV cache export: model id length " + idLen);
            }
            byte[] id = new byte[idLen];
            bb.get(id);
            String blobModel = new String(id, StandardCharsets.UTF_8);
            if (!blobModel.equals(model.id())) {
                throw new IllegalArgumentException("KV cache was exported from model " + blobModel
                        + ", cannot import into model " + model.id());
            }
            int layers = bb.getInt();
            int kvHeads = bb.getInt();
            int headDim = bb.getInt();
            int size = bb.getInt();
            if (layers != c.layers() || kvHeads != c.kvHeads() || headDim != c.headDim()) {
                throw new IllegalArgumentException("KV cache shape (layers " + layers + ", kv heads " + kvHeads
                        + ", head dim " + headDim + ") does not match model " + model.id() + " (" + c.layers()
                        + ", " + c.kvHeads() + ", " + c.headDim() + ")");
            }
            if (size < 0 || size > c.contextLength()) {
                throw new IllegalArgumentException("KV cache export holds " + size
                        + " positions; the model's context length is " + c.contextLength());
            }
            long expected = (long) size * 4 + (long) size * layers * 2 * c.kvDim() * 4;
            if (bb.remaining() != expected) {
                throw new IllegalArgumentException("corrupt KV cache export: " + bb.remaining()
                        + " bytes of data, expected " + expected + " for " + size + " positions");
            }
            int[] ids = new int[size];
            for (int i = 0; i < size; i++) {
                ids[i] = bb.getInt();
                if (ids[i] < 0 || ids[i] >= c.vocabSize()) {
                    throw new IllegalArgumentException("corrupt KV cache export: token " + ids[i] + " at position "
                            + i + " is outside the vocabulary (0.." + (c.vocabSize() - 1) + ")");
                }
            }
            KvCache cache = model.newCache(pool);
            cache.ensureCapacity(size);
            float[] k = new float[c.kvDim()];
            float[] v = new float[c.kvDim()];
            for (int p = 0; p < size; p++) {
                for (int l = 0; l < layers; l++) {
                    bb.asFloatBuffer().get(k);
                    bb.position(bb.position() + 4 * k.length);
                    bb.asFloatBuffer().get(v);
                    bb.position(bb.position() + 4 * v.length);
                    cache.store(l, p, k, 0, v, 0);
                }
            }
            cache.appended(ids, 0, size);
            return cache;
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("corrupt KV cache export: truncated (" + blob.length + " bytes)");
        }
    }

    @Override
    public String toString() {
        return "KvCache[model=" + modelId + ", size=" + size + ", blocks=" + blocks.size() + "]";
    }
}
