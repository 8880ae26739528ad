package dev.warmroute.engine;

import dev.warmroute.engine.gguf.GgufException;
import dev.warmroute.engine.gguf.GgufFile;
import dev.warmroute.engine.tensor.Ops;
import dev.warmroute.engine.tensor.VectorWidth;
import dev.warmroute.engine.template.ChatTemplate;
import dev.warmroute.engine.template.ChatTemplates;
import dev.warmroute.engine.tokenizer.GgufTokenizers;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
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
 * it). That is what makes warm, cold and failover answers identical. The computation itself is {@link ForwardPass};
 * this class checks arguments, reserves cache capacity and serialises calls.
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
    private final StageProfile profile = new StageProfile(); // -Dwarmroute.engine.profile=true; bench prints it
    private final ForwardPass pass; // guarded by lock

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
        this.pool = new ComputePool(options.threads(), options.minParallelWork(), "warmroute-engine");
        this.pass = new ForwardPass(config, weights, options, pool, profile);
    }

    /** Loads a GGUF file. Throws ModelLoadException with a message naming the file and what is wrong. */
    public static Model load(Path path, EngineOptions options) {
        try {
            VectorWidth.requireValid();
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
        try (GgufFile g = GgufFile.open(path)) {
            ModelConfig config = ModelConfig.read(g);
            Tokenizer tokenizer = g.contains("tokenizer.ggml.model") ? GgufTokenizers.from(g) : null;
            if (tokenizer != null && tokenizer.vocabSize() != config.vocabSize()) {
                throw new ModelLoadException(path + ": the tokenizer has " + tokenizer.vocabSize()
                        + " tokens but token_embd.weight has " + config.vocabSize() + " rows");
            }
            ChatTemplates.Selection template = tokenizer == null ? null : ChatTemplates.forModel(g, tokenizer);
            LlamaWeights weights = new LlamaWeights(g, config);
            return new Model(path, config, ModelId.of(g, config), g.getBoolean("warmroute.synthetic", false),
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
            return pass.prefill(cache, tokens, from, to, options.prefillChunk());
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
            return List.of(pass.decodeBatch(caches.toArray(new KvCache[0]), tokens));
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

    /** Nanoseconds spent per stage since load (all zero unless -Dwarmroute.engine.profile=true). */
    public long[] stageNanos() {
        lock.lock();
        try {
            return profile.snapshot();
        } finally {
            lock.unlock();
        }
    }
}
