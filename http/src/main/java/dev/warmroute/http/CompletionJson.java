package dev.warmroute.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warmroute.api.v1.CacheOutcome;
import dev.warmroute.api.v1.FinishReason;
import dev.warmroute.api.v1.RoutingInfo;
import dev.warmroute.api.v1.TurnComplete;
import java.util.Locale;

/**
 * OpenAI's response objects ({@code chat.completion}, {@code chat.completion.chunk}, the error object, the model
 * list), plus one field of our own, {@code warmroute}: which session, worker and cache outcome served the turn, and
 * whether it fell back, resumed or replayed (degradation is never silent; OpenAI's clients ignore fields they do not
 * know).
 */
final class CompletionJson {

    private final ObjectMapper json;

    CompletionJson(ObjectMapper json) {
        this.json = json;
    }

    /** The identity of one completion: its id ("chatcmpl-" + request id), creation time and model. */
    record Head(String id, long created, String model) {}

    ObjectNode completion(Head head, TurnComplete done, Conversations.Target target) {
        ObjectNode root = base(head, "chat.completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", done.getText());
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(done.getFinishReason()));
        root.set("usage", usage(done));
        root.set("warmroute", extension(done, target));
        return root;
    }

    /** A chunk with {@code delta}: the first one carries the role, the others text. */
    ObjectNode chunk(Head head, String role, String content) {
        ObjectNode root = base(head, "chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (role != null) {
            delta.put("role", role);
        }
        delta.put("content", content);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return root;
    }

    /** The chunk that ends the answer: an empty delta and the finish reason (and our extension). */
    ObjectNode finalChunk(Head head, TurnComplete done, Conversations.Target target) {
        ObjectNode root = base(head, "chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putObject("delta");
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(done.getFinishReason()));
        root.set("warmroute", extension(done, target));
        return root;
    }

    /** With {@code stream_options.include_usage}: the last chunk, no choices, the usage. */
    ObjectNode usageChunk(Head head, TurnComplete done) {
        ObjectNode root = base(head, "chat.completion.chunk");
        root.putArray("choices");
        root.set("usage", usage(done));
        return root;
    }

    ObjectNode error(OpenAiError e) {
        ObjectNode root = json.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        if (e.param() == null) {
            error.putNull("param");
        } else {
            error.put("param", e.param());
        }
        error.put("code", e.code());
        return root;
    }

    ObjectNode models(java.util.List<ModelCatalog.Model> models, long created) {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (ModelCatalog.Model m : models) {
            data.add(model(m, created));
        }
        return root;
    }

    ObjectNode model(ModelCatalog.Model m, long created) {
        ObjectNode o = json.createObjectNode();
        o.put("id", m.id());
        o.put("object", "model");
        o.put("created", created);
        o.put("owned_by", "warmroute");
        // vLLM's name for the context length.
        o.put("max_model_len", m.contextLength());
        o.put("synthetic", m.synthetic());
        return o;
    }

    private ObjectNode base(Head head, String object) {
        ObjectNode root = json.createObjectNode();
        root.put("id", head.id());
        root.put("object", object);
        root.put("created", head.created());
        root.put("model", head.model());
        root.putNull("system_fingerprint");
        return root;
    }

    /** OpenAI's usage: cached_tokens are the prompt tokens the worker's KV cache held (the warm part). */
    private ObjectNode usage(TurnComplete done) {
        ObjectNode u = json.createObjectNode();
        int prompt = done.getUsage().getPromptTokens();
        int completion = done.getUsage().getGeneratedTokens();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", done.getUsage().getReusedTokens());
        return u;
    }

    private ObjectNode extension(TurnComplete done, Conversations.Target target) {
        ObjectNode w = json.createObjectNode();
        w.put("session_id", target.stateless() ? null : target.sessionId());
        w.put("stateless", target.stateless());
        w.put("request_id", done.getRequestId());
        w.put("turn_index", done.getTurnIndex());
        w.put("worker", done.getWorkerId());
        CacheOutcome cache = done.getCache();
        w.put("cache", cacheStatus(cache));
        w.put("cache_reason", cache.getReason().name().replace("CACHE_REASON_", "").toLowerCase(Locale.ROOT));
        w.put("cache_detail", cache.getDetail());
        w.put("replayed", done.getReplayed());
        // The worker's own clock: TTFT from the turn's arrival at the worker, and the whole turn there.
        w.put("worker_ttft_ms", done.getTimings().getTtftMs());
        w.put("worker_total_ms", done.getTimings().getTotalMs());
        if (done.hasRouting()) {
            RoutingInfo r = done.getRouting();
            w.put("fallback", r.getFallback());
            w.put("fallback_reason", r.getFallbackReason());
            w.put("resumed", r.getResumed());
        }
        return w;
    }

    static String cacheStatus(CacheOutcome cache) {
        return cache.getStatus().name().replace("CACHE_STATUS_", "").toLowerCase(Locale.ROOT);
    }

    /** OpenAI knows "stop" and "length"; a full context is a length stop too. */
    static String finishReason(FinishReason reason) {
        return switch (reason) {
            case FINISH_REASON_LENGTH, FINISH_REASON_CONTEXT_FULL -> "length";
            default -> "stop";
        };
    }
}
