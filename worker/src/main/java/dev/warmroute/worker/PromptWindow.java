package dev.warmroute.worker;

import dev.warmroute.api.v1.PruningPolicy;
import java.util.List;

/**
 * Decides which turns the prompt of the next turn contains, with exact token counts, and assembles it.
 *
 * <p>The prompt must leave room for the answer: it may use {@code budget - maxTokens} tokens (the prompt budget).
 * The system prompt is always kept. When the turns from the stored window start on no longer fit:
 * <ul>
 *   <li>WATERMARK drops the oldest whole turns in one step until the prompt uses at most {@code lowWatermark}% of
 *       the prompt budget. A cut shifts every later position, so the KV cache cannot be reused past the system
 *       prompt: one full recompute then buys many warm turns before the next cut.</li>
 *   <li>DROP_OLDEST drops one turn at a time until it fits (the seed's policy): at capacity, every turn cuts, so
 *       every turn is a full recompute. Kept for comparison ({@code warmroute bench window}).</li>
 *   <li>NONE fails with RESOURCE_EXHAUSTED.</li>
 * </ul>
 * A message that cannot fit even alone (system prompt + message + room for the answer over the budget) fails with
 * RESOURCE_EXHAUSTED naming the numbers, whatever the policy (chat.proto: "a full context"). The new window start is
 * stored with the turn, so every worker builds the same prompt afterwards.
 */
public final class PromptWindow {

    private PromptWindow() {}

    /**
     * A conversation as token ids: what the window is computed over.
     *
     * @param system      system prompt content ids
     * @param users       user content ids of committed turns, oldest first
     * @param answers     answer ids of committed turns
     * @param windowStart stored window start
     * @param next        content ids of the new user message
     */
    public record Conversation(int[] system, List<int[]> users, List<int[]> answers, int windowStart, int[] next) {
        public Conversation {
            if (users.size() != answers.size()) {
                throw new IllegalArgumentException("users " + users.size() + " != answers " + answers.size());
            }
            if (windowStart < 0 || windowStart > users.size()) {
                throw new IllegalArgumentException("window start " + windowStart + " outside [0, " + users.size() + "]");
            }
        }

        int turns() {
            return users.size();
        }
    }

    /**
     * The prompt of a turn.
     *
     * @param tokens       every prompt token
     * @param windowStart  first committed turn inside (stored at commit)
     * @param prunedTurns  turns this turn's cut dropped (0 = no cut)
     * @param systemTokens tokens of the conversation start (BOS + system block): shared by every window
     * @param warmLength   tokens a cache holds when it served the previous turn of this window: everything before
     *                     the last turn's footer (or the conversation start when the window holds no turn)
     * @param budget       the context budget
     */
    public record Prompt(int[] tokens, int windowStart, int prunedTurns, int systemTokens, int warmLength,
            int budget) {
        public boolean pruned() {
            return prunedTurns > 0;
        }
    }

    /**
     * Builds the prompt.
     *
     * @param budget       the session's context budget in tokens
     * @param maxTokens    room to keep for the answer
     * @param policy       what to do on overflow
     * @param lowWatermark percent of the prompt budget a watermark cut goes down to
     */
    public static Prompt build(PromptTemplate tpl, Conversation c, int budget, int maxTokens, PruningPolicy policy,
            int lowWatermark) {
        int[] start = tpl.conversationStart(c.system());
        int header = tpl.assistantHeader().length;
        int footer = tpl.assistantFooter().length;
        int n = c.turns();
        // Sizes of each turn's block when it is not first in the window; the first one is recomputed per candidate.
        int[] blocks = new int[n];
        for (int i = c.windowStart(); i < n; i++) {
            blocks[i] = tpl.userBlock(c.users().get(i), false).length + header + c.answers().get(i).length + footer;
        }
        int promptBudget = budget - maxTokens;
        int alone = start.length + tpl.userBlock(c.next(), true).length + header;
        if (alone + maxTokens > budget) {
            throw Errors.exhausted("message.content: does not fit the context even alone: system prompt and template "
                    + (alone - c.next().length) + " + message " + c.next().length + " + room for the answer "
                    + maxTokens + " (max_tokens) = " + (alone + maxTokens) + " tokens > context budget " + budget
                    + "; shorten the message or lower max_tokens");
        }
        int w = c.windowStart();
        int size = size(tpl, c, blocks, start.length, header, footer, w);
        int cut = w;
        if (size > promptBudget) {
            switch (policy) {
                case PRUNING_POLICY_NONE -> throw Errors.exhausted("context full: the prompt needs " + size
                        + " tokens + " + maxTokens + " for the answer (max_tokens) > context budget " + budget
                        + " and the session's pruning policy is NONE; start a new session or lower max_tokens");
                case PRUNING_POLICY_DROP_OLDEST -> {
                    while (cut < n && size(tpl, c, blocks, start.length, header, footer, cut) > promptBudget) {
                        cut++;
                    }
                }
                default -> {
                    int target = (int) ((long) promptBudget * lowWatermark / 100);
                    while (cut < n && size(tpl, c, blocks, start.length, header, footer, cut) > target) {
                        cut++;
                    }
                }
            }
        }
        return assemble(tpl, c, start, cut, cut - w, budget);
    }

    /** Tokens of the prompt whose window starts at turn {@code from}. */
    private static int size(PromptTemplate tpl, Conversation c, int[] blocks, int start, int header, int footer,
            int from) {
        int n = c.turns();
        int size = start;
        for (int i = from; i < n; i++) {
            size += i == from
                    ? tpl.userBlock(c.users().get(i), true).length + header + c.answers().get(i).length + footer
                    : blocks[i];
        }
        size += tpl.userBlock(c.next(), from == n).length + header;
        return size;
    }

    private static Prompt assemble(PromptTemplate tpl, Conversation c, int[] start, int from, int pruned,
            int budget) {
        TokenBuffer out = new TokenBuffer(start.length + 256);
        out.add(start);
        int[] header = tpl.assistantHeader();
        int[] footer = tpl.assistantFooter();
        int warm = start.length;
        for (int i = from; i < c.turns(); i++) {
            out.add(tpl.userBlock(c.users().get(i), i == from));
            out.add(header);
            out.add(c.answers().get(i));
            warm = out.size();
            out.add(footer);
        }
        out.add(tpl.userBlock(c.next(), from == c.turns()));
        out.add(header);
        return new Prompt(out.toArray(), from, pruned, start.length, warm, budget);
    }

    /** A growable int array. */
    static final class TokenBuffer {
        private int[] data;
        private int size;

        TokenBuffer(int capacity) {
            data = new int[Math.max(16, capacity)];
        }

        void add(int[] values) {
            if (size + values.length > data.length) {
                data = java.util.Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
            }
            System.arraycopy(values, 0, data, size, values.length);
            size += values.length;
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }
}
