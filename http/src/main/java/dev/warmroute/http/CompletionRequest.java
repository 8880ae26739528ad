package dev.warmroute.http;

import java.util.List;

/**
 * A {@code POST /v1/chat/completions} body after validation ({@link CompletionRequestParser}): only what the front
 * maps to ChatService. Unset sampling fields are null (the session's setting applies).
 *
 * @param model        the model asked for (must be one the deployment serves)
 * @param messages     the conversation as the client sent it, oldest first; the last is the user's new message
 * @param stream       answer as server-sent events
 * @param includeUsage with {@code stream}: a last chunk with the usage ({@code stream_options.include_usage})
 * @param temperature  null or [0, 2]
 * @param topP         null or (0, 1]
 * @param maxTokens    null or [1, 4096] ({@code max_completion_tokens}, or the older {@code max_tokens})
 * @param seed         null or any 64-bit integer (taken as the unsigned seed of chat.proto with the same bits)
 * @param user         OpenAI's end-user id, null when absent; names the session when no x-session-id header does
 */
public record CompletionRequest(String model, List<Message> messages, boolean stream, boolean includeUsage,
        Float temperature, Float topP, Integer maxTokens, Long seed, String user) {

    /** Who said a message, as OpenAI names it ({@code developer} is read as {@code system}). */
    public enum Role { SYSTEM, USER, ASSISTANT }

    /** One message; {@code index} is its position in the request's {@code messages} (for error messages). */
    public record Message(int index, Role role, String content) {}

    public CompletionRequest {
        messages = List.copyOf(messages);
    }

    /** The new user message: the last one. */
    public Message last() {
        return messages.getLast();
    }

    /** The system message when the conversation opens with one, else null. */
    public Message system() {
        return messages.getFirst().role() == Role.SYSTEM ? messages.getFirst() : null;
    }

    /** The messages between the system message (if any) and the new user message: earlier turns repeated. */
    public List<Message> earlier() {
        int from = system() == null ? 0 : 1;
        return messages.subList(from, messages.size() - 1);
    }
}
