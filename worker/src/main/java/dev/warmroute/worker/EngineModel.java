package dev.warmroute.worker;

import dev.warmroute.engine.EngineOptions;
import dev.warmroute.engine.KvBlockPool;
import dev.warmroute.engine.KvCache;
import dev.warmroute.engine.Model;
import dev.warmroute.engine.template.ChatTemplate;
import dev.warmroute.engine.tokenizer.TextDecoder;
import dev.warmroute.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Set;

/**
 * The worker's one view of the engine: the model, its tokenizer and chat template, loaded together. A thin adapter,
 * so the rest of the worker does not care where the engine keeps each piece.
 */
public final class EngineModel implements AutoCloseable {

    private final Model model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final String templateReason;
    private final Set<Integer> stopTokens;

    private EngineModel(Model model) {
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.template = model.chatTemplate();
        this.templateReason = model.chatTemplateReason();
        this.stopTokens = Set.copyOf(template.stopTokens());
    }

    /** Loads a GGUF file (throws the engine's ModelLoadException with a message naming what is wrong). */
    public static EngineModel load(Path path, int threads) {
        Model model = Model.load(path, EngineOptions.builder().threads(threads).build());
        if (!model.hasTokenizer()) {
            model.close();
            throw new IllegalArgumentException("model: " + path + " has no embedded tokenizer (metadata"
                    + " tokenizer.ggml.*); a worker needs one to build prompts");
        }
        return new EngineModel(model);
    }

    /** Compiles the engine's kernels before serving (the first turns would otherwise run interpreted); returns ms. */
    public long warmUp() {
        return model.warmUp();
    }

    public String id() {
        return model.id();
    }

    public boolean synthetic() {
        return model.synthetic();
    }

    public int contextLength() {
        return model.config().contextLength();
    }

    public int vocabSize() {
        return model.config().vocabSize();
    }

    public long kvBytesPerToken() {
        return model.kvBytesPerToken();
    }

    public int threads() {
        return model.options().threads();
    }

    public String templateName() {
        return template.name();
    }

    /** Why this template was chosen (logged at start: an unrecognised template must be visible). */
    public String templateReason() {
        return templateReason;
    }

    public String tokenizerFingerprint() {
        return tokenizer.fingerprint();
    }

    /** The chat template prompts are assembled from ({@link PromptWindow} counts and joins its pieces). */
    public ChatTemplate chatTemplate() {
        return template;
    }

    /** Message content as token ids under this model's template. */
    public int[] encodeContent(String text) {
        return template.encodeContent(text);
    }

    /** Generation stops at these; the stop token is not part of the answer. */
    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    /** A decoder for an answer: its first piece loses the leading space SentencePiece words carry. */
    public TextDecoder newAnswerDecoder() {
        return tokenizer.newDecoder(true);
    }

    /** The text of a whole answer, decoded as the stream was. */
    public String decodeAnswer(int[] ids) {
        TextDecoder d = newAnswerDecoder();
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.push(id));
        }
        return sb.append(d.flush()).toString();
    }

    public KvBlockPool newPool(long byteBudget) {
        return new KvBlockPool(model.config(), byteBudget);
    }

    public KvCache newCache(KvBlockPool pool) {
        return model.newCache(pool);
    }

    /** Appends tokens[from, to) to the cache and returns the logits of the last one. */
    public float[] forward(KvCache cache, int[] tokens, int from, int to) {
        return model.forward(cache, tokens, from, to);
    }

    @Override
    public void close() {
        model.close();
    }
}
