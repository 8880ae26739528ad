package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.FinishReason;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.cluster.session.StoredSettings;
import dev.warmroute.engine.template.ChatTemplate;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The window arithmetic over token ids. The template here is a fixed tagged layout with distinct marker ids (the
 * integration tests use the model's real template); what is tested is which turns are kept and the exact counts.
 */
class PromptWindowTest {

    /** BOS=1; system block 2 .. 3; user block 4 (5 when first in window) .. 6; header 7; footer 8. */
    static final ChatTemplate TAGGED = new ChatTemplate() {
        @Override
        public String name() {
            return "test-tagged";
        }

        @Override
        public int[] encodeContent(String text) {
            throw new UnsupportedOperationException("the window works on ids");
        }

        @Override
        public Set<Integer> stopTokens() {
            return Set.of(9);
        }

        @Override
        public int[] conversationStart(int[] system) {
            return concat(new int[] {1, 2}, system, new int[] {3});
        }

        @Override
        public int[] userBlock(int[] content, boolean first) {
            return concat(new int[] {first ? 5 : 4}, content, new int[] {6});
        }

        @Override
        public int[] assistantHeader() {
            return new int[] {7};
        }

        @Override
        public int[] assistantFooter() {
            return new int[] {8};
        }
    };

    static final PromptWindow WINDOW = new PromptWindow(TAGGED);

    static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    static int[] words(int n, int base) {
        return IntStream.range(0, n).map(i -> 100 + base * 10 + i % 10).toArray();
    }

    /** n committed turns with user messages of 10 tokens and answers of 20: each turn block is 1+10+1+1+20+1 = 34. */
    static PromptWindow.Conversation conversation(int turns, int windowStart, int nextLen) {
        List<int[]> users = new ArrayList<>();
        List<int[]> answers = new ArrayList<>();
        for (int i = 0; i < turns; i++) {
            users.add(words(10, i));
            answers.add(words(20, i + 50));
        }
        return new PromptWindow.Conversation(words(5, 99), users, answers, windowStart, words(nextLen, 77));
    }

    @Test
    void keepsEveryTurnWhileTheyFit() {
        // start 1+1+5+1 = 8; 3 turns of 34 = 102; next 1+10+1+1 = 13 -> 123 tokens.
        PromptWindow.Prompt p = WINDOW.build(conversation(3, 0, 10), 512, 100,
                PruningPolicy.PRUNING_POLICY_WATERMARK, 75);
        assertEquals(123, p.tokens().length);
        assertEquals(0, p.windowStart());
        assertEquals(0, p.prunedTurns());
        assertEquals(8, p.systemTokens());
        assertEquals(8 + 3 * 34 - 1, p.warmLength(), "everything up to the last answer, without its footer");
        assertEquals(5, p.tokens()[8], "the first turn in the window gets the first-in-window user block");
        assertEquals(4, p.tokens()[8 + 34]);
    }

    @Test
    void nextPromptExtendsThePreviousPromptAndAnswerExactly() {
        PromptWindow.Conversation before = conversation(2, 0, 10);
        PromptWindow.Prompt p2 = WINDOW.build(before, 512, 100, PruningPolicy.PRUNING_POLICY_WATERMARK,
                75);
        int[] answer = words(20, 55);
        List<int[]> users = new ArrayList<>(before.users());
        users.add(before.next());
        List<int[]> answers = new ArrayList<>(before.answers());
        answers.add(answer);
        PromptWindow.Prompt p3 = WINDOW.build(
                new PromptWindow.Conversation(before.system(), users, answers, 0, words(4, 66)), 512, 100,
                PruningPolicy.PRUNING_POLICY_WATERMARK, 75);
        int[] cached = concat(p2.tokens(), answer);
        assertArrayEquals(cached, Arrays.copyOf(p3.tokens(), cached.length), "the seam");
        assertEquals(cached.length, p3.warmLength());
    }

    @Test
    void watermarkDropsOldestTurnsDownToTheLowWatermarkInOneStep() {
        // budget 300, max tokens 100: prompt budget 200; 75% = 150. 6 turns: 8 + 204 + 13 = 225 > 200.
        PromptWindow.Prompt p = WINDOW.build(conversation(6, 0, 10), 300, 100,
                PruningPolicy.PRUNING_POLICY_WATERMARK, 75);
        // Dropping k turns leaves 8 + (6-k)*34 + 13 <= 150 -> k >= 2 (8 + 136 + 13 = 157 > 150) -> k = 3 (123).
        assertEquals(3, p.windowStart());
        assertEquals(3, p.prunedTurns());
        assertEquals(123, p.tokens().length);
        assertTrue(p.tokens().length <= 150);
    }

    @Test
    void dropOldestDropsJustEnoughToFit() {
        PromptWindow.Prompt p = WINDOW.build(conversation(6, 0, 10), 300, 100,
                PruningPolicy.PRUNING_POLICY_DROP_OLDEST, 75);
        // 225 - 34 = 191 <= 200: one turn.
        assertEquals(1, p.windowStart());
        assertEquals(191, p.tokens().length);
    }

    @Test
    void startsFromTheStoredWindowStart() {
        PromptWindow.Prompt p = WINDOW.build(conversation(6, 4, 10), 300, 100,
                PruningPolicy.PRUNING_POLICY_WATERMARK, 75);
        assertEquals(4, p.windowStart());
        assertEquals(0, p.prunedTurns());
        assertEquals(8 + 2 * 34 + 13, p.tokens().length);
    }

    @Test
    void policyNoneFailsWhenTheWindowIsFull() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> WINDOW.build(
                conversation(6, 0, 10), 300, 100, PruningPolicy.PRUNING_POLICY_NONE, 75));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("225 tokens + 100 for the answer"), e.toString());
    }

    @Test
    void aMessageThatCannotFitEvenAloneFailsNamingTheNumbers() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> WINDOW.build(
                conversation(1, 0, 250), 300, 100, PruningPolicy.PRUNING_POLICY_WATERMARK, 75));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        String d = e.getStatus().getDescription();
        assertTrue(d.startsWith("message.content: does not fit the context even alone"), d);
        assertTrue(d.contains("message 250") && d.contains("max_tokens") && d.contains("context budget 300"), d);
    }

    @Test
    void aMessageThatFitsOnlyAloneDropsEveryTurn() {
        PromptWindow.Prompt p = WINDOW.build(conversation(3, 0, 150), 300, 100,
                PruningPolicy.PRUNING_POLICY_WATERMARK, 75);
        assertEquals(3, p.windowStart());
        assertEquals(8 + 153, p.tokens().length);
        assertEquals(8, p.warmLength());
    }

    private static StoredSettings settings(int budget, int maxTokens) {
        return new StoredSettings(budget, PruningPolicy.PRUNING_POLICY_WATERMARK.getNumber(), 75, 0f, 1f, 7L, maxTokens);
    }

    @Test
    void theWindowSizeASessionReportsIsThePromptBeforeTheNextMessage() {
        // start 8 + 3 turns of 34: what the next turn's prompt starts with, whatever the next message is.
        assertEquals(8 + 3 * 34, WINDOW.windowTokens(conversation(3, 0, 10)));
        assertEquals(8 + 3 * 34, WINDOW.windowTokens(conversation(3, 0, 99)));
        assertEquals(8 + 34, WINDOW.windowTokens(conversation(3, 2, 10)), "from the stored window start");
        assertEquals(8, WINDOW.windowTokens(conversation(0, 0, 10)));
        PromptWindow.Prompt p = WINDOW.build(conversation(3, 0, 10), 512, 100, PruningPolicy.PRUNING_POLICY_WATERMARK,
                75);
        assertEquals(p.tokens().length - 13, WINDOW.windowTokens(conversation(3, 0, 10)),
                "counted as the prompt is assembled");
    }

    @Test
    void aTurnReservesItsWindowAndAnswerRoomAndStopsAtMaxTokensOrTheBudget() {
        PromptWindow.Prompt p = WINDOW.forTurn(conversation(3, 0, 10), settings(512, 100), 100, new int[0]);
        assertEquals(123, p.windowTokens());
        assertEquals(123 + 100, p.reservation());
        assertEquals(null, p.limitAt(99));
        assertEquals(FinishReason.FINISH_REASON_LENGTH, p.limitAt(100));
        // A window pruned to fit leaves max_tokens of room; a prompt that leaves less fills the context first.
        PromptWindow.Prompt cut = WINDOW.forTurn(conversation(3, 0, 10), settings(200, 100), 100, new int[0]);
        assertTrue(cut.windowTokens() <= 100, "pruned to the prompt budget: " + cut.windowTokens());
        assertEquals(cut.windowTokens() + 100, cut.reservation());
        PromptWindow.Prompt tight = new PromptWindow.Prompt(new int[150], 150, 0, 0, 8, 8, 200, 100);
        assertEquals(200, tight.reservation());
        assertEquals(null, tight.limitAt(49));
        assertEquals(FinishReason.FINISH_REASON_CONTEXT_FULL, tight.limitAt(50));
    }

    @Test
    void aResumedTurnPrefillsItsPartialAnswerAfterTheWindow() {
        int[] partial = {201, 202, 203};
        PromptWindow.Prompt p = WINDOW.forTurn(conversation(3, 0, 10), settings(512, 100), 100, partial);
        assertEquals(123, p.windowTokens(), "the window is the stored prompt size");
        assertEquals(126, p.tokens().length);
        assertEquals(3, p.partialAnswerTokens());
        assertArrayEquals(partial, Arrays.copyOfRange(p.tokens(), 123, 126));
        assertEquals(null, p.limitAt(3), "the partial answer counts towards max_tokens");
        assertEquals(123 + 100, p.reservation());
    }

    @Test
    void aTurnsFieldsOutOfRangeAreInvalidBeforeTheWindowIsBuilt() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> WINDOW.forTurn(conversation(1, 0, 250), settings(128, 32), 200, new int[0]));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("sampling.max_tokens: 200 exceeds the session's context budget of 128 tokens",
                e.getStatus().getDescription());
        e = assertThrows(StatusRuntimeException.class,
                () -> WINDOW.forTurn(conversation(1, 0, 10), settings(512, 2), 2, new int[] {201, 202, 203}));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("resume.token_ids: 3 tokens exceed max_tokens 2", e.getStatus().getDescription());
    }

    @Test
    void aSessionMustLeaveRoomForAOneTokenMessageAndItsAnswer() {
        // start 1+1+5+1 = 8, a one-token message 1+1+1 = 3, header 1: 12 + max_tokens.
        WINDOW.checkRoomForATurn(words(5, 99), true, settings(112, 100));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> WINDOW.checkRoomForATurn(words(5, 99), true, settings(111, 100)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("system_prompt: the system prompt (5 tokens), the template and max_tokens 100 need 112 tokens,"
                + " more than the context budget 111: no room for a turn", e.getStatus().getDescription());
        e = assertThrows(StatusRuntimeException.class,
                () -> WINDOW.checkRoomForATurn(new int[0], false, settings(100, 100)));
        assertTrue(e.getStatus().getDescription().startsWith("settings.sampling.max_tokens: "), e.toString());
        e = assertThrows(StatusRuntimeException.class,
                () -> PromptWindow.checkMaxTokens("settings.sampling.max_tokens", 300, "the context budget", 256));
        assertEquals("settings.sampling.max_tokens: 300 exceeds the context budget of 256 tokens",
                e.getStatus().getDescription());
    }
}
