package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.PruningPolicy;
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
}
