package dev.warmroute.engine.template;

import java.util.Set;

/**
 * How a chat becomes tokens, as pieces of token ids rather than one rendered string: the worker stores each message's
 * ids and rebuilds every prompt from them, so that the prompt of turn k+1 extends, token for token, what the KV cache
 * holds after turn k (the prompt of turn k plus the ids generated in it). Rendering a string and tokenizing it again
 * would not: BPE may cut the answer differently once text follows it.
 *
 * <p>A prompt is {@code conversationStart(system)}, then for each turn in the window {@code userBlock(u, first)
 * + assistantHeader() + a + assistantFooter()}, then {@code userBlock(newUser, first) + assistantHeader()}; see
 * {@link ChatPrompt#assemble}. Implementations are immutable and thread-safe.
 */
public interface ChatTemplate {

    /** "llama2", "llama3", "chatml" or "tagged". */
    String name();

    /** How message content (system, user) is tokenized under this template. */
    int[] encodeContent(String text);

    /** BOS (when the model wants one) and the system block; an empty system gives no system block. */
    int[] conversationStart(int[] systemContent);

    /** Header, content and footer of a user message; {@code firstInWindow}: it directly follows the start. */
    int[] userBlock(int[] userContent, boolean firstInWindow);

    /** Opens the answer: every prompt ends with it. May be empty. */
    int[] assistantHeader();

    /** Closes a committed answer (whose stop token was not fed to the model) before the next user block. */
    int[] assistantFooter();

    /** Generation stops at any of these; the stop token is not part of the answer. */
    Set<Integer> stopTokens();
}
