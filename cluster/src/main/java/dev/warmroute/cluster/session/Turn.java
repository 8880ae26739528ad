package dev.warmroute.cluster.session;

import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import java.util.Arrays;

/**
 * One committed turn: the user's message and the answer, as text and as token ids. The ids are what later prompts
 * are built from (under the same tokenizer fingerprint), so the prompt of the next turn extends exactly the tokens a
 * worker's KV cache holds after this one. Arrays are never modified after construction.
 *
 * @param index           0-based position in the session; equals the session version the turn was built on
 * @param requestId       the idempotency key: a session holds each request id at most once
 * @param attemptId       random id of the worker's attempt that committed it; lets that worker recognise its own
 *                        commit when Hazelcast re-runs the entry processor
 * @param userText        the message as the client sent it
 * @param userTokens      its content token ids under the session's tokenizer
 * @param assistantText   the whole answer
 * @param assistantTokens the answer's token ids, without the stop token
 * @param finishReason    the API's {@code FinishReason} number
 * @param workerId        the worker that committed the turn
 * @param promptTokens    tokens of the prompt the answer was generated from
 * @param createTimeMs    when the turn was committed (epoch ms)
 */
public record Turn(
        int index,
        String requestId,
        String attemptId,
        String userText,
        int[] userTokens,
        String assistantText,
        int[] assistantTokens,
        int finishReason,
        String workerId,
        int promptTokens,
        long createTimeMs) {

    /** Same content (records compare arrays by reference). */
    public boolean sameAs(Turn o) {
        return o != null && index == o.index && requestId.equals(o.requestId) && attemptId.equals(o.attemptId)
                && userText.equals(o.userText) && Arrays.equals(userTokens, o.userTokens)
                && assistantText.equals(o.assistantText) && Arrays.equals(assistantTokens, o.assistantTokens)
                && finishReason == o.finishReason && workerId.equals(o.workerId) && promptTokens == o.promptTokens
                && createTimeMs == o.createTimeMs;
    }

    @Override
    public String toString() {
        return "Turn[" + index + " request=" + requestId + " user=" + userTokens.length + "t answer="
                + assistantTokens.length + "t worker=" + workerId + "]";
    }

    /** Explicit Compact serializer: no Java serialisation, and a schema that can gain fields. */
    public static final class Serializer implements CompactSerializer<Turn> {
        @Override
        public Turn read(CompactReader in) {
            return new Turn(in.readInt32("index"), in.readString("requestId"), in.readString("attemptId"),
                    in.readString("userText"), in.readArrayOfInt32("userTokens"), in.readString("assistantText"),
                    in.readArrayOfInt32("assistantTokens"), in.readInt32("finishReason"), in.readString("workerId"),
                    in.readInt32("promptTokens"), in.readInt64("createTimeMs"));
        }

        @Override
        public void write(CompactWriter out, Turn t) {
            out.writeInt32("index", t.index());
            out.writeString("requestId", t.requestId());
            out.writeString("attemptId", t.attemptId());
            out.writeString("userText", t.userText());
            out.writeArrayOfInt32("userTokens", t.userTokens());
            out.writeString("assistantText", t.assistantText());
            out.writeArrayOfInt32("assistantTokens", t.assistantTokens());
            out.writeInt32("finishReason", t.finishReason());
            out.writeString("workerId", t.workerId());
            out.writeInt32("promptTokens", t.promptTokens());
            out.writeInt64("createTimeMs", t.createTimeMs());
        }

        @Override
        public String getTypeName() {
            return "warmroute.Turn";
        }

        @Override
        public Class<Turn> getCompactClass() {
            return Turn.class;
        }
    }
}
