package dev.warmroute.worker;

/**
 * The four pieces of a chat template the prompt window is assembled from (the engine's {@code ChatTemplate}, seen
 * through {@link EngineModel}). A prompt is {@code conversationStart(system)}, then per turn in the window
 * {@code userBlock(u, first) + assistantHeader() + answer + assistantFooter()}, then the new message's
 * {@code userBlock(..) + assistantHeader()}; so the next turn's prompt extends exactly the tokens a cache holds
 * after this turn.
 */
public interface PromptTemplate {

    int[] conversationStart(int[] systemContent);

    int[] userBlock(int[] userContent, boolean firstInWindow);

    int[] assistantHeader();

    int[] assistantFooter();
}
