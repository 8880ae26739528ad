package dev.warmroute.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmroute.cluster.ApiLimits;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and checks a chat completion request body. Every field OpenAI defines is either mapped (model, messages,
 * stream, stream_options, temperature, top_p, max_tokens, max_completion_tokens, seed, user), accepted at the value
 * that means "off" (n = 1, penalties 0, no tools, text output, ...), or refused with a 400 that names the field and
 * what this server supports; a field OpenAI does not define is refused as OpenAI refuses it. Nothing is silently
 * ignored: a client that asks for stop sequences or two choices learns that it does not get them.
 */
public final class CompletionRequestParser {

    /** Most messages in one request (a conversation repeated in full is checked against the stored history). */
    public static final int MAX_MESSAGES = 2048;

    /** Fields accepted only at their "off" value, with the words that say what is supported. */
    private static final Map<String, String> OFF_ONLY = Map.ofEntries(
            Map.entry("n", "only 1 choice is supported"),
            Map.entry("presence_penalty", "only 0 is supported"),
            Map.entry("frequency_penalty", "only 0 is supported"),
            Map.entry("logprobs", "log probabilities are not supported (false or absent)"),
            Map.entry("top_logprobs", "log probabilities are not supported"),
            Map.entry("logit_bias", "logit bias is not supported (absent or {})"),
            Map.entry("stop", "stop sequences are not supported: the answer ends at the model's end of turn or at "
                    + "max_completion_tokens"),
            Map.entry("tools", "tools are not supported (absent or [])"),
            Map.entry("functions", "functions are not supported (absent or [])"),
            Map.entry("tool_choice", "tools are not supported (absent, \"none\" or \"auto\")"),
            Map.entry("function_call", "functions are not supported (absent, \"none\" or \"auto\")"),
            Map.entry("parallel_tool_calls", "tools are not supported"),
            Map.entry("response_format", "only {\"type\": \"text\"} is supported"),
            Map.entry("modalities", "only [\"text\"] is supported"),
            Map.entry("audio", "audio output is not supported"),
            Map.entry("prediction", "predicted outputs are not supported"),
            Map.entry("store", "stored completions are not supported (false or absent)"),
            Map.entry("metadata", "stored completions are not supported (absent or {})"),
            Map.entry("service_tier", "only \"auto\" or \"default\" is supported"),
            Map.entry("reasoning_effort", "reasoning effort is not supported"),
            Map.entry("web_search_options", "web search is not supported"));

    private static final Set<String> MAPPED = Set.of("model", "messages", "stream", "stream_options", "temperature",
            "top_p", "max_tokens", "max_completion_tokens", "seed", "user");

    private final ObjectMapper json;

    public CompletionRequestParser(ObjectMapper json) {
        this.json = json;
    }

    public CompletionRequest parse(byte[] body) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw new OpenAiError(400, "invalid_request_error", null, "invalid_json",
                    "body: not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new OpenAiError(400, "invalid_request_error", null, "invalid_json", "body: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw OpenAiError.invalid("body", "must be a JSON object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!MAPPED.contains(name) && !OFF_ONLY.containsKey(name)) {
                throw new OpenAiError(400, "invalid_request_error", name, "unknown_parameter",
                        name + ": unrecognized request argument (see the http module's README for the fields "
                                + "this server reads)");
            }
            if (OFF_ONLY.containsKey(name) && !isOff(name, root.get(name))) {
                throw new OpenAiError(400, "invalid_request_error", name, "unsupported_parameter",
                        name + ": " + OFF_ONLY.get(name) + ", got " + abbreviate(root.get(name).toString()));
            }
        }
        String model = requiredString(root, "model");
        List<CompletionRequest.Message> messages = messages(root.get("messages"));
        boolean stream = bool(root, "stream");
        boolean includeUsage = false;
        JsonNode options = root.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!stream) {
                throw OpenAiError.invalid("stream_options", "only allowed when stream is true");
            }
            if (!options.isObject()) {
                throw OpenAiError.invalid("stream_options", "must be an object");
            }
            for (Iterator<String> it = options.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!name.equals("include_usage")) {
                    throw new OpenAiError(400, "invalid_request_error", "stream_options." + name,
                            "unknown_parameter", "stream_options." + name + ": unrecognized (only include_usage)");
                }
            }
            includeUsage = bool(options, "include_usage", "stream_options.include_usage");
        }
        Float temperature = number(root, "temperature", 0, ApiLimits.MAX_TEMPERATURE, true, "[0, 2]");
        Float topP = number(root, "top_p", 0, 1, false, "(0, 1]");
        Integer maxTokens = maxTokens(root);
        Long seed = null;
        JsonNode s = root.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.isIntegralNumber() || !s.canConvertToLong()) {
                throw OpenAiError.invalid("seed", "must be an integer in [-2^63, 2^63), got " + abbreviate(s.toString()));
            }
            seed = s.longValue();
        }
        String user = null;
        JsonNode u = root.get("user");
        if (u != null && !u.isNull()) {
            if (!u.isTextual()) {
                throw OpenAiError.invalid("user", "must be a string");
            }
            user = u.asText();
            if (!ApiLimits.ID.matcher(user).matches()) {
                throw OpenAiError.invalid("user", "names the session when no x-session-id header is given, so it "
                        + "must be " + ApiLimits.ID_RULE + ", got '" + abbreviate(user) + "'");
            }
        }
        return new CompletionRequest(model, messages, stream, includeUsage, temperature, topP, maxTokens, seed, user);
    }

    private static List<CompletionRequest.Message> messages(JsonNode node) {
        if (node == null || node.isNull()) {
            throw OpenAiError.invalid("messages", "required (a list with at least one user message)");
        }
        if (!node.isArray() || node.isEmpty()) {
            throw OpenAiError.invalid("messages", "must be a non-empty list");
        }
        if (node.size() > MAX_MESSAGES) {
            throw OpenAiError.invalid("messages", node.size() + " messages exceed the limit of " + MAX_MESSAGES);
        }
        List<CompletionRequest.Message> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = node.get(i);
            if (!m.isObject()) {
                throw OpenAiError.invalid(at, "must be an object with role and content");
            }
            for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!Set.of("role", "content", "name", "refusal").contains(name)) {
                    throw new OpenAiError(400, "invalid_request_error", at + "." + name, "unsupported_parameter",
                            at + "." + name + ": not supported (role and content only; no tool calls)");
                }
            }
            String roleName = requiredString(m, "role", at + ".role");
            CompletionRequest.Role role = switch (roleName) {
                case "system", "developer" -> CompletionRequest.Role.SYSTEM;
                case "user" -> CompletionRequest.Role.USER;
                case "assistant" -> CompletionRequest.Role.ASSISTANT;
                default -> throw OpenAiError.invalid(at + ".role", "must be system, developer, user or assistant "
                        + "(tools are not supported), got '" + abbreviate(roleName) + "'");
            };
            if (role == CompletionRequest.Role.SYSTEM && i != 0) {
                throw OpenAiError.invalid(at + ".role", "a system message may only open the conversation "
                        + "(messages[0]); the session's system prompt is fixed when it is created");
            }
            String content = content(m.get("content"), at + ".content");
            int bytes = content.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > ApiLimits.MAX_CONTENT_BYTES) {
                throw OpenAiError.invalid(at + ".content", bytes + " bytes exceeds the limit of "
                        + ApiLimits.MAX_CONTENT_BYTES + " bytes");
            }
            out.add(new CompletionRequest.Message(i, role, content));
        }
        CompletionRequest.Message last = out.getLast();
        if (last.role() != CompletionRequest.Role.USER) {
            throw OpenAiError.invalid("messages[" + last.index() + "].role", "the last message must be the user's "
                    + "new message, got " + last.role().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (last.content().isEmpty()) {
            throw OpenAiError.invalid("messages[" + last.index() + "].content", "must not be empty (1 to "
                    + ApiLimits.MAX_CONTENT_BYTES + " bytes)");
        }
        // Earlier turns alternate user, assistant: that is the shape the stored history has.
        int from = out.getFirst().role() == CompletionRequest.Role.SYSTEM ? 1 : 0;
        for (int i = from; i < out.size() - 1; i++) {
            CompletionRequest.Role expected = (i - from) % 2 == 0 ? CompletionRequest.Role.USER
                    : CompletionRequest.Role.ASSISTANT;
            if (out.get(i).role() != expected) {
                throw OpenAiError.invalid("messages[" + i + "].role", "earlier turns alternate user and assistant "
                        + "(as the stored history does); expected " + expected.name().toLowerCase(java.util.Locale.ROOT)
                        + ", got " + out.get(i).role().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        if ((out.size() - 1 - from) % 2 != 0) {
            int i = out.size() - 2;
            throw OpenAiError.invalid("messages[" + i + "]", "a user message without its answer: earlier turns "
                    + "are pairs of user and assistant messages (as the stored history is), then the new user message");
        }
        return out;
    }

    /** A string, or OpenAI's list of content parts of which only {@code {"type":"text","text":...}} is supported. */
    private static String content(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            throw OpenAiError.invalid(at, "required");
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (!node.isArray()) {
            throw OpenAiError.invalid(at, "must be a string or a list of text parts");
        }
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < node.size(); j++) {
            JsonNode part = node.get(j);
            String pat = at + "[" + j + "]";
            if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw OpenAiError.invalid(pat, "only text parts ({\"type\": \"text\", \"text\": ...}) are supported");
            }
            sb.append(part.get("text").asText());
        }
        return sb.toString();
    }

    private static Integer maxTokens(JsonNode root) {
        Integer a = integer(root, "max_completion_tokens");
        Integer b = integer(root, "max_tokens");
        if (a != null && b != null && !a.equals(b)) {
            throw OpenAiError.invalid("max_tokens", "differs from max_completion_tokens (" + b + " vs " + a
                    + "); give one of them");
        }
        return a != null ? a : b;
    }

    private static Integer integer(JsonNode root, String name) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < ApiLimits.MIN_MAX_TOKENS
                || n.intValue() > ApiLimits.MAX_MAX_TOKENS) {
            throw OpenAiError.invalid(name, "must be an integer in [" + ApiLimits.MIN_MAX_TOKENS + ", "
                    + ApiLimits.MAX_MAX_TOKENS + "], got " + abbreviate(n.toString()));
        }
        return n.intValue();
    }

    private static Float number(JsonNode root, String name, float min, float max, boolean minIncluded,
            String range) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isNumber()) {
            throw OpenAiError.invalid(name, "must be a number in " + range + ", got " + abbreviate(n.toString()));
        }
        double v = n.doubleValue();
        if (!(minIncluded ? v >= min : v > min) || !(v <= max)) {
            throw OpenAiError.invalid(name, "must be in " + range + ", got " + n);
        }
        return (float) v;
    }

    private static boolean bool(JsonNode root, String name) {
        return bool(root, name, name);
    }

    private static boolean bool(JsonNode root, String name, String at) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw OpenAiError.invalid(at, "must be true or false, got " + abbreviate(n.toString()));
        }
        return n.booleanValue();
    }

    private static String requiredString(JsonNode root, String name) {
        return requiredString(root, name, name);
    }

    private static String requiredString(JsonNode root, String name, String at) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            throw OpenAiError.invalid(at, "required");
        }
        if (!n.isTextual() || n.asText().isEmpty()) {
            throw OpenAiError.invalid(at, "must be a non-empty string");
        }
        return n.asText();
    }

    /** True when an OFF_ONLY field has the value that asks for nothing this server lacks. */
    private static boolean isOff(String name, JsonNode v) {
        if (v == null || v.isNull()) {
            return true;
        }
        return switch (name) {
            case "n" -> v.isIntegralNumber() && v.intValue() == 1;
            case "presence_penalty", "frequency_penalty" -> v.isNumber() && v.doubleValue() == 0;
            case "logprobs", "store" -> v.isBoolean() && !v.booleanValue();
            case "logit_bias", "metadata" -> v.isObject() && v.isEmpty();
            case "stop", "tools", "functions" -> v.isArray() && v.isEmpty();
            case "tool_choice", "function_call" -> v.isTextual() && Set.of("none", "auto").contains(v.asText());
            case "response_format" -> v.isObject() && v.size() == 1 && "text".equals(v.path("type").asText());
            case "modalities" -> v.isArray() && v.size() == 1 && "text".equals(v.get(0).asText());
            // Means nothing without tools, which are refused on their own.
            case "parallel_tool_calls" -> v.isBoolean();
            case "service_tier" -> v.isTextual() && Set.of("auto", "default").contains(v.asText());
            default -> false;
        };
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
