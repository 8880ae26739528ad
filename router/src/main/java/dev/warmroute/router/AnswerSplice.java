package dev.warmroute.router;

import dev.warmroute.api.v1.TokenDelta;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * Keeps one continuous answer for the client while a turn moves between workers.
 *
 * <p>It records the tokens and text already sent and turns each worker's deltas into the part the client has not
 * seen. Three shapes of attempt arrive here: a first attempt (deltas from index 0), a resumed attempt (the next worker
 * was given the tokens sent so far and continues at that index, its text continuing the same string), and a replay
 * (the failed worker had committed before it died, so the next one replays the whole stored answer from index 0).
 * Overlapping tokens and text must equal what was sent; if they do not, the answers diverged (a determinism bug) and
 * the turn fails rather than show the client a spliced answer.
 *
 * <p>Text is tracked at token boundaries: the text length after each delta that carried tokens. A worker may end its
 * answer with a text-only delta (bytes of an unfinished UTF-8 sequence flushed at the end); a resumed worker re-emits
 * that text itself, so the boundary excludes it.
 */
public final class AnswerSplice {

    /** A worker's deltas disagree with what the client already received. */
    public static final class DivergenceException extends Exception {
        DivergenceException(String message) {
            super(message, null, false, false);
        }
    }

    private int[] tokens = new int[64];
    private int count;
    private final StringBuilder text = new StringBuilder();
    /** Tokens sent → text length right after the delta that carried the last of them. */
    private final TreeMap<Integer, Integer> boundaries = new TreeMap<>();

    private int attemptBase = -1;
    private int attemptBaseText;
    private int attemptNext;
    private StringBuilder attemptText = new StringBuilder();

    public AnswerSplice() {
        boundaries.put(0, 0);
    }

    /** A new worker starts sending: its first delta says where it starts. */
    public void newAttempt() {
        attemptBase = -1;
        attemptText = new StringBuilder();
    }

    /** Tokens sent to the client so far. */
    public int tokenCount() {
        return count;
    }

    public int[] tokens() {
        return Arrays.copyOf(tokens, count);
    }

    /** Text sent to the client so far. */
    public String text() {
        return text.toString();
    }

    /** True once anything of the answer reached the client: a retry must then continue it, not start over. */
    public boolean anySent() {
        return count > 0 || !text.isEmpty();
    }

    /**
     * Takes a worker's delta; returns the delta to send to the client (index, tokens and text the client has not
     * seen), or null when it holds nothing new.
     */
    public TokenDelta accept(TokenDelta d) throws DivergenceException {
        int index = d.getIndex();
        int m = d.getTokenIdsCount();
        if (attemptBase < 0) {
            Integer textAt = boundaries.get(index);
            if (textAt == null) {
                throw new DivergenceException("a worker started its answer at token " + index
                        + ", where the client's stream has no boundary (" + count + " tokens sent)");
            }
            attemptBase = index;
            attemptBaseText = textAt;
            attemptNext = index;
        }
        if (index != attemptNext) {
            throw new DivergenceException("delta index " + index + " does not follow the previous delta (expected "
                    + attemptNext + ")");
        }
        attemptNext = index + m;

        int firstNew = count;
        for (int j = 0; j < m; j++) {
            int pos = index + j;
            int id = d.getTokenIds(j);
            if (pos < count) {
                if (tokens[pos] != id) {
                    throw new DivergenceException("token " + pos + " differs from the one already sent (" + id
                            + " vs " + tokens[pos] + ")");
                }
            } else if (pos == count) {
                if (count == tokens.length) {
                    tokens = Arrays.copyOf(tokens, count * 2);
                }
                tokens[count++] = id;
            } else {
                throw new DivergenceException("token " + pos + " leaves a gap after " + count + " sent tokens");
            }
        }

        attemptText.append(d.getText());
        int cumulative = attemptBaseText + attemptText.length();
        int overlapEnd = Math.min(cumulative, text.length());
        if (overlapEnd > attemptBaseText
                && !text.substring(attemptBaseText, overlapEnd).contentEquals(
                        attemptText.subSequence(0, overlapEnd - attemptBaseText))) {
            throw new DivergenceException("answer text differs from the text already sent after character "
                    + attemptBaseText);
        }
        String newText = cumulative > text.length() ? attemptText.substring(text.length() - attemptBaseText) : "";
        text.append(newText);
        if (m > 0 && index + m == count) {
            boundaries.put(count, text.length());
        }
        if (count == firstNew && newText.isEmpty()) {
            return null;
        }
        TokenDelta.Builder out = TokenDelta.newBuilder().setIndex(firstNew).setText(newText);
        for (int p = firstNew; p < count; p++) {
            out.addTokenIds(tokens[p]);
        }
        return out.build();
    }
}
