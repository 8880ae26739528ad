package dev.warmroute.engine;

import dev.warmroute.engine.gguf.GgufException;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.tensor.Ops;
import dev.warmroute.engine.tensor.Tensor;
import dev.warmroute.engine.template.ChatTemplate;
import dev.warmroute.engine.template.ChatTemplates;
import dev.warmroute.engine.tokenizer.GgufTokenizers;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loaded llama-architecture model: weights, hyper-parameters, and the threads that run its forward pass.
 *
 * <p>{@link #forward} appends tokens to a {@link KvCache} and returns the logits of the last one. Prompts go through
 * each layer in chunks of {@link EngineOptions#prefillChunk()} tokens as matrix-matrix work. Calls are thread-safe
 * and serialised (one forward pass at a time uses all the engine's threads; a second caller waits).
 *
 * <p>Invariant: a position's logits are bitwise identical however the tokens were split into calls and chunks,
 * whatever the thread count, and after truncate/re-prefill or export/import (see {@link Ops} for how kernels keep
 * it). That is what makes warm, cold and failover answers identical.
 */
public final class Model implements AutoCloseable {

    private final Path path;
    private final ModelConfig config;
    private final String id;
    private final boolean synthetic;
    private final Map<String, Object> metadata;
    private final LlamaWeights weights;
    private final Tokenizer tokenizer; // null when the file embeds none
    private final ChatTemplates.Selection chatTemplate; // null without a tokenizer
    private final EngineOptions options;
    private final ComputePool pool;
    private final ReentrantLock lock = new ReentrantLock();
    private final float[] ropeCos; // (contextLength, ropeDim / 2)
    private final float[] ropeSin;
    private ForwardState state;

    /** Per-stage time of forward passes when -Dwarmroute.engine.profile=true (bench prints it). */
    static final boolean PROFILE = Boolean.getBoolean("warmroute.engine.profile");
    private final long[] stageNanos = new long[Stage.values().length];

    /** Stages of a forward pass, in data-flow order. */
    public enum Stage { EMBED_NORM_ROPE, QKV, ATTENTION, ATTN_OUT, GATE_UP, SILU, DOWN, CLASSIFIER }

    private Model(Path path, ModelConfig config, String id, boolean synthetic, Map<String, Object> metadata,
                  LlamaWeights weights, Tokenizer tokenizer, ChatTemplates.Selection chatTemplate,
                  EngineOptions options) {
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.path = path;
        this.config = config;
        this.id = id;
        this.synthetic = synthetic;
        this.metadata = metadata;
        this.weights = weights;
        this.options = options;
        int half = config.ropeDim() / 2;
        this.ropeCos = new float[config.contextLength() * half];
        this.ropeSin = new float[config.contextLength() * half];
        for (int i = 0; i < half; i++) {
            float freq = 1.0f / (float) StrictMath.pow(config.ropeTheta(), (2 * i) / (float) config.ropeDim());
            for (int pos = 0; pos < config.contextLength(); pos++) {
                float val = pos * freq;
                ropeCos[pos * half + i] = (float) StrictMath.cos(val);
                ropeSin[pos * half + i] = (float) StrictMath.sin(val);
            }
        }
        this.pool = new ComputePool(options.threads(), options.minParallelWork(), "warmroute-engine");
    }

    /** Loads a GGUF file. Throws ModelLoadException with a message naming the file and what is wrong. */
    public static Model load(Path path, EngineOptions options) {
        try (GgufFile g = GgufFile.open(path)) {
            ModelConfig config = readConfig(g);
            Tokenizer tokenizer = g.contains("tokenizer.ggml.model") ? GgufTokenizers.from(g) : null;
            if (tokenizer != null && tokenizer.vocabSize() != config.vocabSize()) {
                throw new ModelLoadException(path + ": the tokenizer has " + tokenizer.vocabSize()
                        + " tokens but token_embd.weight has " + config.vocabSize() + " rows");
            }
            ChatTemplates.Selection template = tokenizer == null ? null : ChatTemplates.forModel(g, tokenizer);
            LlamaWeights weights = new LlamaWeights(g, config);
            return new Model(path, config, modelId(g, config), g.getBoolean("warmroute.synthetic", false),
                    Map.copyOf(g.metadata()), weights, tokenizer, template, options);
        } catch (GgufException e) {
            throw new ModelLoadException(e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(path + ": " + e.getMessage(), e);
        }
    }

    public static Model load(Path path) {
        return load(path, EngineOptions.defaults());
    }

    static ModelConfig readConfig(GgufFile g) {
        String arch = g.contains("general.architecture") ? g.getString("general.architecture") : "(none)";
        if (!arch.equals("llama")) {
            throw new ModelLoadException(g.path() + ": unsupported architecture '" + arch
                    + "' (metadata general.architecture); this engine runs 'llama'");
        }
        int dim = positive(g, "llama.embedding_length");
        int hidden = positive(g, "llama.feed_forward_length");
        int layers = positive(g, "llama.block_count");
        int heads = positive(g, "llama.attention.head_count");
        int kvHeads = g.contains("llama.attention.head_count_kv") ? positive(g, "llama.attention.head_count_kv")
                : heads;
        if (heads % kvHeads != 0) {
            throw new ModelLoadException(g.path() + ": llama.attention.head_count " + heads
                    + " is not a multiple of llama.attention.head_count_kv " + kvHeads);
        }
        int headDim = g.contains("llama.attention.key_length") ? positive(g, "llama.attention.key_length")
                : dim / heads;
        if (!g.contains("llama.attention.key_length") && dim % heads != 0) {
            throw new ModelLoadException(g.path() + ": llama.embedding_length " + dim
                    + " is not a multiple of llama.attention.head_count " + heads);
        }
        int ropeDim = g.contains("llama.rope.dimension_count") ? positive(g, "llama.rope.dimension_count")
                : headDim;
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw new ModelLoadException(g.path() + ": llama.rope.dimension_count " + ropeDim
                    + " must be even and at most the head dimension " + headDim);
        }
        int context = positive(g, "llama.context_length");
        if (context > 1 << 20) {
            throw new ModelLoadException(g.path() + ": llama.context_length " + context + " exceeds the limit "
                    + (1 << 20));
        }
        float theta = g.getFloat("llama.rope.freq_base", 10000f);
        float eps = g.getFloat("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        var embd = g.tensors().get("token_embd.weight");
        if (embd == null) {
            throw new ModelLoadException(g.path() + ": tensor token_embd.weight is missing");
        }
        long vocab = embd.dim(1);
        if (vocab <= 0 || vocab > Integer.MAX_VALUE / 64) {
            throw new ModelLoadException(g.path() + ": vocabulary size " + vocab + " out of range");
        }
        if (g.contains("tokenizer.ggml.tokens")) {
            Object tokens = g.get("tokenizer.ggml.tokens");
            if (tokens instanceof String[] t && t.length != vocab) {
                throw new ModelLoadException(g.path() + ": tokenizer.ggml.tokens has " + t.length
                        + " entries but token_embd.weight has " + vocab + " rows");
            }
        }
        String name = path(g).getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        String type = LlamaWeights.layerType(g).name().toLowerCase(Locale.ROOT);
        return new ModelConfig(name, arch, dim, hidden, layers, heads, kvHeads, headDim, (int) vocab, context,
                theta, eps, type, ropeDim);
    }

    private static Path path(GgufFile g) {
        return g.path();
    }

    private static int positive(GgufFile g, String key) {
        if (!g.contains(key)) {
            throw new ModelLoadException(g.path() + ": metadata key " + key + " is missing");
        }
        long v;
        try {
            v = g.getLong(key);
        } catch (GgufException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
        if (v <= 0 || v > 1 << 24) {
            throw new ModelLoadException(g.path() + ": metadata " + key + " = " + v + " is out of range (1.."
                    + (1 << 24) + ")");
        }
        return (int) v;
    }

    /** name-type-hash, the hash over the header (metadata, tensor table) and samples of the tensor data. */
    private static String modelId(GgufFile g, ModelConfig c) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            MemorySegment seg = g.segment();
            sha.update(seg.asSlice(0, Math.min(g.dataOffset(), seg.byteSize())).toArray(ValueLayout.JAVA_BYTE));
            long dataLen = seg.byteSize() - g.dataOffset();
            long sample = Math.min(dataLen, 1 << 16);
            if (sample > 0) {
                sha.update(seg.asSlice(g.dataOffset(), sample).toArray(ValueLayout.JAVA_BYTE));
                sha.update(seg.asSlice(seg.byteSize() - sample, sample).toArray(ValueLayout.JAVA_BYTE));
            }
            sha.update(Long.toString(seg.byteSize()).getBytes(StandardCharsets.UTF_8));
            String hash = HexFormat.of().formatHex(sha.digest(), 0, 4);
            String name = c.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "_");
            String suffix = "-" + c.weightType();
            if (name.endsWith(suffix)) {
                name = name.substring(0, name.length() - suffix.length());
            }
            return name + suffix + "-" + hash;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** Stable across processes for the same file, e.g. "stories260k-f32-1a2b3c4d". */
    public String id() {
        return id;
    }

    /** True for seeded random-weight models (GGUF metadata warmroute.synthetic = true). */
    public boolean synthetic() {
        return synthetic;
    }

    public Path path() {
        return path;
    }

    public EngineOptions options() {
        return options;
    }

    /** The GGUF metadata (tokenizer arrays included), as read. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The tokenizer embedded in the GGUF file (tokenizer.ggml.*). */
    public Tokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException("model " + id + " (" + path + ") has no embedded tokenizer "
                    + "(metadata tokenizer.ggml.model is missing)");
        }
        return tokenizer;
    }

    /**
     * The chat template: the built-in one matching tokenizer.chat_template (llama2, llama3, chatml), else the plain
     * role-tagged one; {@link #chatTemplateReason()} says which and why.
     */
    public ChatTemplate chatTemplate() {
        tokenizer();
        return chatTemplate.template();
    }

    public String chatTemplateReason() {
        tokenizer();
        return chatTemplate.reason();
    }

    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    /** Bytes of weights held in memory. */
    public long weightBytes() {
        return weights.bytes();
    }

    /**
     * Weight bytes one decode step reads: every matrix once, the classifier included, but only one row of an untied
     * embedding.
     */
    public long decodeBytesPerToken() {
        return weights.bytes() - (weights.tiedOutput ? 0 : weights.tokenEmbedding.bytes());
    }

    public boolean tiedOutput() {
        return weights.tiedOutput;
    }

    /** KV cache bytes per token position (all layers, K and V). */
    public long kvBytesPerToken() {
        return config.kvBytesPerToken();
    }

    /** An empty cache whose blocks come from {@code pool}. */
    public KvCache newCache(KvBlockPool pool) {
        return new KvCache(pool, config, id);
    }

    /** Stops the engine's threads. The weights are on the heap (the file was unmapped after loading). */
    @Override
    public void close() {
        pool.close();
    }

    /**
     * Appends tokens[from, to) at positions cache.size().. and returns the logits (vocabSize) of the last one.
     *
     * @throws ContextOverflowException  if the positions would exceed the context length (nothing appended)
     * @throws KvBudgetExceededException if the pool cannot hold them (nothing appended)
     */
    public float[] forward(KvCache cache, int[] tokens, int from, int to) {
        if (!cache.modelId().equals(id)) {
            throw new IllegalArgumentException("KV cache belongs to model " + cache.modelId() + ", not " + id);
        }
        if (from < 0 || to > tokens.length || from >= to) {
            throw new IllegalArgumentException("token range [" + from + ", " + to + ") is empty or outside the "
                    + tokens.length + " tokens given");
        }
        for (int i = from; i < to; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at index " + i
                        + " is outside the vocabulary (0.." + (config.vocabSize() - 1) + ")");
            }
        }
        int end = cache.size() + (to - from);
        if (end > config.contextLength()) {
            throw new ContextOverflowException(config.contextLength(), end);
        }
        cache.ensureCapacity(end);
        lock.lock();
        try {
            if (state == null) {
                state = new ForwardState(config, weights, options, pool.threads());
            }
            ForwardState s = state;
            int chunk = options.prefillChunk();
            int last = 0;
            for (int c = from; c < to; c += chunk) {
                int m = Math.min(chunk, to - c);
                s.segments = 1;
                s.segCache[0] = cache;
                s.segRow[0] = 0;
                s.segRows[0] = m;
                layers(s, tokens, c, m);
                cache.appended(tokens, c, m);
                last = m - 1;
            }
            return logits(s, last);
        } finally {
            lock.unlock();
        }
    }

    /**
     * One decode step for several sessions at once: appends tokens[i] to caches.get(i) and returns the logits of each,
     * bitwise equal to {@code forward(caches.get(i), tokens, i, i + 1)} one after the other. The sessions' tokens go
     * through the weight matrices together (each weight is read once per step instead of once per session: decode
     * is bound by reading the weights); attention runs per session against its own cache.
     *
     * <p>Up to {@link EngineOptions#prefillChunk()} sessions, each cache once. Nothing is appended to any cache when
     * an argument is invalid, a cache is full ({@link ContextOverflowException}) or the pool has no room
     * ({@link KvBudgetExceededException}; caches checked before the failing one may keep extra capacity, as after
     * {@link KvCache#ensureCapacity}).
     */
    public List<float[]> forwardBatch(List<KvCache> caches, int[] tokens) {
        int n = caches.size();
        if (n == 0 || n != tokens.length) {
            throw new IllegalArgumentException("forwardBatch needs one token per cache: " + n + " caches, "
                    + tokens.length + " tokens");
        }
        if (n > options.prefillChunk()) {
            throw new IllegalArgumentException("forwardBatch of " + n + " sessions exceeds the limit "
                    + options.prefillChunk() + " (EngineOptions.prefillChunk)");
        }
        java.util.Set<KvCache> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < n; i++) {
            KvCache cache = caches.get(i);
            if (!cache.modelId().equals(id)) {
                throw new IllegalArgumentException("KV cache " + i + " belongs to model " + cache.modelId() + ", not "
                        + id);
            }
            if (!seen.add(cache)) {
                throw new IllegalArgumentException("KV cache " + i + " appears twice in one forwardBatch");
            }
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at index " + i
                        + " is outside the vocabulary (0.." + (config.vocabSize() - 1) + ")");
            }
            if (cache.size() + 1 > config.contextLength()) {
                throw new ContextOverflowException(config.contextLength(), cache.size() + 1);
            }
        }
        for (KvCache cache : caches) {
            cache.ensureCapacity(cache.size() + 1);
        }
        lock.lock();
        try {
            if (state == null) {
                state = new ForwardState(config, weights, options, pool.threads());
            }
            ForwardState s = state;
            s.segments = n;
            for (int i = 0; i < n; i++) {
                s.segCache[i] = caches.get(i);
                s.segRow[i] = i;
                s.segRows[i] = 1;
            }
            layers(s, tokens, 0, n);
            for (int i = 0; i < n; i++) {
                caches.get(i).appended(tokens, i, 1);
            }
            int vocab = config.vocabSize();
            int dim = config.dim();
            if (s.batchLogits.length < n * vocab) {
                s.batchLogits = new float[n * vocab];
            }
            for (int t = 0; t < n; t++) {
                Ops.rmsnorm(s.xb, t * dim, s.x, t * dim, weights.outputNorm, dim, config.normEps());
            }
            long t0 = PROFILE ? System.nanoTime() : 0;
            matmuls(s, n, new MatmulJob[] {new MatmulJob(weights.output, s.xb, s.batchLogits)});
            mark(t0, Stage.CLASSIFIER);
            List<float[]> out = new ArrayList<>(n);
            for (int t = 0; t < n; t++) {
                out.add(Arrays.copyOfRange(s.batchLogits, t * vocab, (t + 1) * vocab));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs a few prefill and decode passes on a private cache so that the JIT compiles the kernels (the Vector API is
     * very slow until it does): call once at start-up before serving. Returns the milliseconds it took. Leaves no
     * state behind.
     */
    public long warmUp() {
        long t0 = System.nanoTime();
        int n = Math.min(config.contextLength(), 64);
        KvBlockPool scratch = new KvBlockPool(config, kvBytesPerToken() * (n + KvBlockPool.BLOCK_TOKENS));
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = (i * 7919) % config.vocabSize();
        }
        for (int round = 0; round < 2; round++) {
            KvCache c = newCache(scratch);
            int prefill = Math.min(n / 2, 64);
            forward(c, tokens, 0, prefill);
            for (int i = prefill; i < n; i++) {
                forward(c, tokens, i, i + 1);
            }
            c.release();
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Convenience: all of {@code tokens}. */
    public float[] forward(KvCache cache, int... tokens) {
        return forward(cache, tokens, 0, tokens.length);
    }

    // ---- the forward pass, in data-flow order ------------------------------------------------------------------

    /** Nanoseconds spent per stage since load (all zero unless -Dwarmroute.engine.profile=true). */
    public long[] stageNanos() {
        lock.lock();
        try {
            return stageNanos.clone();
        } finally {
            lock.unlock();
        }
    }

    private long mark(long t0, Stage stage) {
        if (!PROFILE) {
            return 0;
        }
        long t = System.nanoTime();
        stageNanos[stage.ordinal()] += t - t0;
        return t;
    }

    /**
     * Runs tokens[from, from + m) through every layer: row t of the activations is token from + t. The rows come in
     * segments (s.segCache etc.), each appending consecutive rows to one cache at its current size: one segment for a
     * prompt chunk, one per session for {@link #forwardBatch}. Only attention and the KV store look at segments.
     */
    private void layers(ForwardState s, int[] tokens, int from, int m) {
        long t0 = PROFILE ? System.nanoTime() : 0;
        ModelConfig c = config;
        int dim = c.dim();
        int kvDim = c.kvDim();
        int hidden = c.hiddenDim();
        int qDim = c.heads() * c.headDim();
        int group = c.heads() / c.kvHeads();
        int hd = c.headDim();
        for (int t = 0; t < m; t++) {
            weights.tokenEmbedding.row(tokens[from + t], s.x, t * dim); // x (m, dim)
        }
        // Attention work units: per segment and KV head, tiles of up to 16 queries (tokens x query heads sharing it).
        int units = 0;
        long attentionWork = 0;
        for (int g = 0; g < s.segments; g++) {
            int pos0 = s.segCache[g].size();
            s.segPos[g] = pos0;
            int queries = s.segRows[g] * group;
            attentionWork += 2L * queries * c.kvHeads() * hd * (pos0 + s.segRows[g]);
            for (int h = 0; h < c.kvHeads(); h++) {
                for (int first = 0; first < queries; first += Attention.TILE) {
                    s.unitSeg[units] = g;
                    s.unitHead[units] = h;
                    s.unitFirst[units] = first;
                    s.unitCount[units] = Math.min(Attention.TILE, queries - first);
                    units++;
                }
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer w = weights.layers[l];
            for (int t = 0; t < m; t++) {
                Ops.rmsnorm(s.xb, t * dim, s.x, t * dim, w.attnNorm(), dim, c.normEps()); // xb (m, dim)
            }
            t0 = mark(t0, Stage.EMBED_NORM_ROPE);
            // q (m, heads * headDim), k and v (m, kvDim)
            matmuls(s, m, s.qkv[l]);
            t0 = mark(t0, Stage.QKV);
            for (int g = 0; g < s.segments; g++) {
                KvCache cache = s.segCache[g];
                for (int t = s.segRow[g], end = t + s.segRows[g]; t < end; t++) {
                    int pos = s.segPos[g] + t - s.segRow[g];
                    rope(s.q, t * qDim, c.heads(), pos);
                    rope(s.k, t * kvDim, c.kvHeads(), pos);
                    cache.store(l, pos, s.k, t * kvDim, s.v, t * kvDim);
                }
            }
            t0 = mark(t0, Stage.EMBED_NORM_ROPE);
            int layer = l;
            pool.run(units, attentionWork, (u, thread) -> {
                int g = s.unitSeg[u];
                Attention.run(s.segCache[g], layer, s.unitHead[u], group, hd, s.q, qDim, s.segRow[g], s.segPos[g],
                        s.unitFirst[u], s.unitCount[u], s.xb2, s.attention[thread]);
            });
            t0 = mark(t0, Stage.ATTENTION);
            matmuls(s, m, s.attnOut[l]); // xb (m, dim) = wo . xb2
            t0 = mark(t0, Stage.ATTN_OUT);
            for (int t = 0; t < m; t++) {
                Ops.add(s.x, t * dim, s.xb, t * dim, dim);
                Ops.rmsnorm(s.xb, t * dim, s.x, t * dim, w.ffnNorm(), dim, c.normEps());
            }
            t0 = mark(t0, Stage.EMBED_NORM_ROPE);
            matmuls(s, m, s.gateUp[l]); // hb, hb2 (m, hidden)
            t0 = mark(t0, Stage.GATE_UP);
            for (int t = 0; t < m; t++) {
                Ops.siluMul(s.hb, t * hidden, s.hb2, t * hidden, hidden);
            }
            t0 = mark(t0, Stage.SILU);
            matmuls(s, m, s.down[l]); // xb (m, dim) = w2 . hb
            t0 = mark(t0, Stage.DOWN);
            for (int t = 0; t < m; t++) {
                Ops.add(s.x, t * dim, s.xb, t * dim, dim);
            }
        }
    }

    private float[] logits(ForwardState s, int t) {
        int dim = config.dim();
        Ops.rmsnorm(s.xb, 0, s.x, t * dim, weights.outputNorm, dim, config.normEps());
        long t0 = PROFILE ? System.nanoTime() : 0;
        matmuls(s, 1, s.classifier);
        mark(t0, Stage.CLASSIFIER);
        return s.logits.clone();
    }

    /** RoPE on adjacent pairs (as GGUF stores llama weights): (v[2i], v[2i+1]) rotated by pos * theta^(-2i/d). */
    private void rope(float[] v, int off, int heads, int pos) {
        int hd = config.headDim();
        int half = config.ropeDim() / 2;
        int base = pos * half;
        for (int h = 0; h < heads; h++) {
            int o = off + h * hd;
            for (int i = 0; i < half; i++) {
                float fcr = ropeCos[base + i];
                float fci = ropeSin[base + i];
                float v0 = v[o + 2 * i];
                float v1 = v[o + 2 * i + 1];
                v[o + 2 * i] = v0 * fcr - v1 * fci;
                v[o + 2 * i + 1] = v0 * fci + v1 * fcr;
            }
        }
    }

    /**
     * One parallel region over the panels of several matrices (same input tokens): chunks of panels, claimed by
     * whichever thread is free.
     */
    private void matmuls(ForwardState s, int tokens, MatmulJob[] jobs) {
        int total = 0;
        long work = 0;
        for (MatmulJob j : jobs) {
            total += j.w().panels();
            work += (long) tokens * j.w().rows() * j.w().cols();
        }
        // About 8 chunks per thread: enough to rebalance around a descheduled thread, few enough that claiming
        // (a contended atomic) stays cheap next to the work; even, so the two-panel decode kernels pair up.
        int per = Math.max(tokens < 4 ? 2 : 4, (total / (8 * pool.threads())) & ~1);
        int all = total;
        pool.run((total + per - 1) / per, work, (chunk, thread) -> {
            int a = chunk * per;
            int b = Math.min(all, a + per);
            int base = 0;
            for (MatmulJob j : jobs) {
                int p = j.w().panels();
                int p0 = Math.max(a - base, 0);
                int p1 = Math.min(b - base, p);
                if (p0 < p1) {
                    j.w().matmul(j.x(), 0, j.w().cols(), tokens, j.y(), 0, j.w().rows(), p0, p1, s.scratch[thread]);
                }
                base += p;
            }
        });
    }

    /** y (tokens, w.rows) = x (tokens, w.cols) . w^T */
    record MatmulJob(Tensor w, float[] x, float[] y) {}

    /** Activations and scratch of one forward pass, sized for a prefill chunk; reused (no allocation per token). */
    private static final class ForwardState {
        final float[] x, xb, xb2, q, k, v, hb, hb2, logits;
        final float[][] scratch;
        final Attention.Scratch[] attention; // per thread
        // Segments of rows (see layers): cache, first row, rows, position of the first row
        int segments;
        final KvCache[] segCache;
        final int[] segRow, segRows, segPos;
        // Attention work units: segment, KV head, first query, queries
        final int[] unitSeg, unitHead, unitFirst, unitCount;
        float[] batchLogits = new float[0]; // (sessions, vocab) for forwardBatch, grown on demand
        final MatmulJob[][] qkv, attnOut, gateUp, down;
        final MatmulJob[] classifier;

        ForwardState(ModelConfig c, LlamaWeights w, EngineOptions o, int threads) {
            int m = o.prefillChunk();
            int qDim = c.heads() * c.headDim();
            x = new float[m * c.dim()];
            xb = new float[m * Math.max(c.dim(), qDim)];
            xb2 = new float[m * qDim];
            q = new float[m * qDim];
            k = new float[m * c.kvDim()];
            v = new float[m * c.kvDim()];
            hb = new float[m * c.hiddenDim()];
            hb2 = new float[m * c.hiddenDim()];
            logits = new float[c.vocabSize()];
            int maxScratch = w.output.scratchFloats();
            for (LlamaWeights.Layer l : w.layers) {
                for (Tensor t : new Tensor[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.down(), l.up()}) {
                    maxScratch = Math.max(maxScratch, t.scratchFloats());
                }
            }
            scratch = new float[threads][maxScratch];
            segCache = new KvCache[m];
            segRow = new int[m];
            segRows = new int[m];
            segPos = new int[m];
            int maxUnits = c.kvHeads() * (m * (c.heads() / c.kvHeads()) / Attention.TILE + m);
            unitSeg = new int[maxUnits];
            unitHead = new int[maxUnits];
            unitFirst = new int[maxUnits];
            unitCount = new int[maxUnits];
            attention = new Attention.Scratch[threads];
            for (int i = 0; i < threads; i++) {
                attention[i] = new Attention.Scratch(c);
            }
            int n = c.layers();
            qkv = new MatmulJob[n][];
            attnOut = new MatmulJob[n][];
            gateUp = new MatmulJob[n][];
            down = new MatmulJob[n][];
            for (int i = 0; i < n; i++) {
                LlamaWeights.Layer l = w.layers[i];
                qkv[i] = new MatmulJob[] {new MatmulJob(l.wq(), xb, q), new MatmulJob(l.wk(), xb, k),
                        new MatmulJob(l.wv(), xb, v)};
                attnOut[i] = new MatmulJob[] {new MatmulJob(l.wo(), xb2, xb)};
                gateUp[i] = new MatmulJob[] {new MatmulJob(l.gate(), xb, hb), new MatmulJob(l.up(), xb, hb2)};
                down[i] = new MatmulJob[] {new MatmulJob(l.down(), hb, xb)};
            }
            classifier = new MatmulJob[] {new MatmulJob(w.output, xb, logits)};
        }
    }
}
