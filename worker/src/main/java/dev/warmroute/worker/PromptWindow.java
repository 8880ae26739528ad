package dev.warmroute.worker;

import dev.warmroute.api.v1.FinishReason;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.cluster.session.StoredSettings;
import dev.warmroute.engine.template.ChatTemplate;
import java.util.Arrays;
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
 *
 * <p>Every size and fit check of the worker is here, on one way of counting (the template's pieces over stored ids):
 * whether a new session leaves room for a turn, {@code max_tokens} against the budget, the window itself, the
 * positions a turn reserves and where its answer must stop, and the window size a session reports.
 */
public final class PromptWindow {

    /** A one-token message: the smallest turn a session must leave room for. */
    private static final int[] SMALLEST_MESSAGE = {0};

    private final ChatTemplate template;

    public PromptWindow(ChatTemplate template) {
        this.template = template;
    }

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
     * @param tokens       every token to prefill: the window, then (resumed turn) the partial answer
     * @param windowTokens tokens of the window alone (stored with the turn as its prompt size)
     * @param windowStart  first committed turn inside (stored at commit)
     * @param prunedTurns  turns this turn's cut dropped (0 = no cut)
     * @param systemTokens tokens of the conversation start (BOS + system block): shared by every window
     * @param warmLength   tokens a cache holds when it served the previous turn of this window: everything before
     *                     the last turn's footer (or the conversation start when the window holds no turn)
     * @param budget       the context budget
     * @param maxTokens    the answer's length limit (its room is kept free in the budget)
     */
    public record Prompt(int[] tokens, int windowTokens, int windowStart, int prunedTurns, int systemTokens,
            int warmLength, int budget, int maxTokens) {

        public boolean pruned() {
            return prunedTurns > 0;
        }

        /** Answer tokens already given (a resumed turn's partial answer), prefilled after the window. */
        public int partialAnswerTokens() {
            return tokens.length - windowTokens;
        }

        /** Positions a turn reserves before it computes: the window and room for the answer, within the budget. */
        public int reservation() {
            return Math.min(windowTokens + maxTokens, budget);
        }

        /**
         * Why an answer of {@code answerTokens} tokens (a resumed turn's partial answer included) must stop here, or
         * null while it may grow: LENGTH at {@code max_tokens}, CONTEXT_FULL when window and answer fill the budget.
         */
        public FinishReason limitAt(int answerTokens) {
            if (answerTokens >= maxTokens) {
                return FinishReason.FINISH_REASON_LENGTH;
            }
            if (windowTokens + answerTokens >= budget) {
                return FinishReason.FINISH_REASON_CONTEXT_FULL;
            }
            return null;
        }
    }

    /**
     * A {@code max_tokens} larger than the whole budget is a field out of range (INVALID_ARGUMENT), not a full
     * context: no conversation could ever fit it.
     */
    public static void checkMaxTokens(String field, int maxTokens, String budgetName, int budget) {
        if (maxTokens > budget) {
            throw Errors.invalid(field, maxTokens + " exceeds " + budgetName + " of " + budget + " tokens");
        }
    }

    /**
     * CreateSession: the system prompt, the template around a one-token message and {@code max_tokens} must fit the
     * budget, or no turn ever could (INVALID_ARGUMENT naming the system prompt, or max_tokens when there is none).
     */
    public void checkRoomForATurn(int[] system, boolean hasSystemPrompt, StoredSettings settings) {
        int minimal = aloneTokens(system, SMALLEST_MESSAGE) + settings.maxTokens();
        if (minimal > settings.contextBudgetTokens()) {
            throw Errors.invalid(hasSystemPrompt ? "system_prompt" : "settings.sampling.max_tokens",
                    "the system prompt (" + system.length + " tokens), the template and max_tokens "
                            + settings.maxTokens() + " need " + minimal + " tokens, more than the context budget "
                            + settings.contextBudgetTokens() + ": no room for a turn");
        }
    }

    /**
     * The prompt of a turn, after its fit checks in this order: {@code max_tokens} within the session's budget and
     * a resumed partial answer within {@code max_tokens} (INVALID_ARGUMENT), then the window (RESOURCE_EXHAUSTED when
     * the message cannot fit even alone, or the policy is NONE and the window is full).
     *
     * @param partialAnswer a resumed turn's partial answer (prefilled after the window); empty otherwise
     */
    public Prompt forTurn(Conversation c, StoredSettings settings, int maxTokens, int[] partialAnswer) {
        int budget = settings.contextBudgetTokens();
        checkMaxTokens("sampling.max_tokens", maxTokens, "the session's context budget", budget);
        if (partialAnswer.length > maxTokens) {
            throw Errors.invalid("resume.token_ids", partialAnswer.length + " tokens exceed max_tokens " + maxTokens);
        }
        Prompt window = build(c, budget, maxTokens, PruningPolicy.forNumber(settings.pruningPolicy()),
                settings.lowWatermarkPercent());
        if (partialAnswer.length == 0) {
            return window;
        }
        int[] tokens = Arrays.copyOf(window.tokens(), window.tokens().length + partialAnswer.length);
        System.arraycopy(partialAnswer, 0, tokens, window.tokens().length, partialAnswer.length);
        return new Prompt(tokens, window.windowTokens(), window.windowStart(), window.prunedTurns(),
                window.systemTokens(), window.warmLength(), budget, maxTokens);
    }

    /**
     * Builds the window.
     *
     * @param budget       the session's context budget in tokens
     * @param maxTokens    room to keep for the answer
     * @param policy       what to do on overflow
     * @param lowWatermark percent of the prompt budget a watermark cut goes down to
     */
    public Prompt build(Conversation c, int budget, int maxTokens, PruningPolicy policy, int lowWatermark) {
        Sizes sizes = new Sizes(c);
        int promptBudget = budget - maxTokens;
        int alone = aloneTokens(c.system(), c.next());
        if (alone + maxTokens > budget) {
            throw Errors.exhausted("message.content: does not fit the context even alone: system prompt and template "
                    + (alone - c.next().length) + " + message " + c.next().length + " + room for the answer "
                    + maxTokens + " (max_tokens) = " + (alone + maxTokens) + " tokens > context budget " + budget
                    + "; shorten the message or lower max_tokens");
        }
        int w = c.windowStart();
        int size = sizes.prompt(w);
        int cut = w;
        if (size > promptBudget) {
            int target = switch (policy) {
                case PRUNING_POLICY_NONE -> throw Errors.exhausted("context full: the prompt needs " + size
                        + " tokens + " + maxTokens + " for the answer (max_tokens) > context budget " + budget
                        + " and the session's pruning policy is NONE; start a new session or lower max_tokens");
                case PRUNING_POLICY_DROP_OLDEST -> promptBudget;
                default -> (int) ((long) promptBudget * lowWatermark / 100);
            };
            while (cut < c.turns() && sizes.prompt(cut) > target) {
                cut++;
            }
        }
        return assemble(c, cut, cut - w, budget, maxTokens);
    }

    /**
     * Tokens of the prompt the next turn starts from (conversation start and the turns inside the window, without
     * the next message): what a session reports as its window size. {@code c.next()} is not counted.
     */
    public int windowTokens(Conversation c) {
        return new Sizes(c).history(c.windowStart());
    }

    /** The conversation start, a message first in the window and the assistant header: a prompt with no turn. */
    private int aloneTokens(int[] system, int[] message) {
        return template.conversationStart(system).length + template.userBlock(message, true).length
                + template.assistantHeader().length;
    }

    /** Token counts of one conversation's prompts by where the window starts: the one way sizes are counted. */
    private final class Sizes {
        private final Conversation c;
        private final int start;
        private final int header;
        private final int footer;
        /** {@code rest[i]}: tokens of turns i.. when none of them is first in the window. */
        private final int[] rest;

        Sizes(Conversation c) {
            this.c = c;
            this.start = template.conversationStart(c.system()).length;
            this.header = template.assistantHeader().length;
            this.footer = template.assistantFooter().length;
            int n = c.turns();
            this.rest = new int[n + 1];
            for (int i = n - 1; i >= c.windowStart(); i--) {
                rest[i] = rest[i + 1] + turn(i, false);
            }
        }

        private int turn(int i, boolean first) {
            return template.userBlock(c.users().get(i), first).length + header + c.answers().get(i).length + footer;
        }

        /** The conversation start and turns {@code from}.. (the first of them gets the first-in-window block). */
        int history(int from) {
            return from == c.turns() ? start : start + turn(from, true) + rest[from + 1];
        }

        /** The prompt whose window starts at turn {@code from}: its history and the next message. */
        int prompt(int from) {
            return history(from) + template.userBlock(c.next(), from == c.turns()).length + header;
        }
    }

    private Prompt assemble(Conversation c, int from, int pruned, int budget, int maxTokens) {
        int[] start = template.conversationStart(c.system());
        TokenBuffer out = new TokenBuffer(start.length + 256);
        out.add(start);
        int[] header = template.assistantHeader();
        int[] footer = template.assistantFooter();
        int warm = start.length;
        for (int i = from; i < c.turns(); i++) {
            out.add(template.userBlock(c.users().get(i), i == from));
            out.add(header);
            out.add(c.answers().get(i));
            warm = out.size();
            out.add(footer);
        }
        out.add(template.userBlock(c.next(), from == c.turns()));
        out.add(header);
        int[] tokens = out.toArray();
        return new Prompt(tokens, tokens.length, from, pruned, start.length, warm, budget, maxTokens);
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
                data = Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
            }
            System.arraycopy(values, 0, data, size, values.length);
            size += values.length;
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
