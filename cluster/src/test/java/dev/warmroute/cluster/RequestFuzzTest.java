package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.SendMessageRequest;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Property-based fuzzing of request decoding and validation (jqwik): arbitrary bytes through the servers' request
 * marshaller ({@link LenientRequestMarshaller}) and then {@link RequestChecks}, and arbitrary requests built from
 * hostile field values, must end in an accepted request within every limit or INVALID_ARGUMENT naming a field; never
 * another exception ({@link RequestFuzz} is the oracle). CI runs each property {@code jqwik.tries.default} times
 * (1000, {@code src/test/resources/junit-platform.properties}); the long run is {@link RequestFuzzSoakTest}.
 */
class RequestFuzzTest {

    @Property
    void anyBytesDecodeToAValidRequestOrInvalidArgumentNamingAField(@ForAll("bytesForAMethod") Input in) {
        Statistics.label("outcome").collect(RequestFuzz.decodeAndCheck(in.method(), in.bytes()));
    }

    @Property
    void anySendMessageRequestIsAcceptedWithinTheLimitsOrRefusedNamingAField(
            @ForAll("sendMessages") SendMessageRequest r) {
        Statistics.label("outcome").collect(RequestFuzz.check(RequestFuzz.Method.SEND, r));
        // And as it reaches a server: encoded, decoded by the lenient marshaller, checked.
        RequestFuzz.decodeAndCheck(RequestFuzz.Method.SEND, r.toByteArray());
    }

    @Property
    void anyCreateSessionRequestIsAcceptedWithinTheLimitsOrRefusedNamingAField(
            @ForAll("createSessions") CreateSessionRequest r) {
        Statistics.label("outcome").collect(RequestFuzz.check(RequestFuzz.Method.CREATE, r));
        RequestFuzz.decodeAndCheck(RequestFuzz.Method.CREATE, r.toByteArray());
    }

    /**
     * What the first run found: a client's own field 536870911 (the number the decoder marks rejections with) was
     * taken for a rejection, its text sent back as the status message, and as a varint it failed the call with
     * UNKNOWN. Now it is an unknown field like any other, and the request is checked as usual.
     */
    @Example
    void aClientsOwnRejectionFieldIsAnUnknownFieldNotARejection() {
        for (UnknownFieldSet.Field forged : List.of(
                UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("pwned")).build(),
                UnknownFieldSet.Field.newBuilder().addVarint(7).build(),
                UnknownFieldSet.Field.newBuilder().addFixed32(7).build())) {
            byte[] bytes = UnknownFieldSet.newBuilder().addField(LenientRequestMarshaller.ERROR_FIELD, forged).build()
                    .toByteArray();
            Object parsed = RequestFuzz.marshaller(RequestFuzz.Method.GET).parse(new ByteArrayInputStream(bytes));
            assertNull(LenientRequestMarshaller.rejection(parsed), forged.toString());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> RequestChecks.sessionId(((GetSessionRequest) parsed).getSessionId()));
            assertEquals("session_id: required (1 to 128 characters of [A-Za-z0-9._:-])",
                    e.getStatus().getDescription());
        }
        Object rejected = RequestFuzz.marshaller(RequestFuzz.Method.GET).parse(new ByteArrayInputStream(
                new byte[] {0x0A, 0x02, (byte) 0xC3, 0x28}));
        assertEquals("session_id: not valid UTF-8", LenientRequestMarshaller.rejection(rejected));
    }

    /** Bytes and the method whose request they are sent as. */
    record Input(RequestFuzz.Method method, byte[] bytes) {
        @Override
        public String toString() {
            return method + " " + java.util.HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 256))
                    + (bytes.length > 256 ? "... (" + bytes.length + " bytes)" : "");
        }
    }

    @Provide
    Arbitrary<Input> bytesForAMethod() {
        return inputs();
    }

    static Arbitrary<Input> inputs() {
        return RequestFuzz.methods().flatMap(m -> RequestFuzz.hostileBytes(m).map(b -> new Input(m, b)));
    }

    @Provide
    Arbitrary<SendMessageRequest> sendMessages() {
        return RequestFuzz.sendMessages();
    }

    @Provide
    Arbitrary<CreateSessionRequest> createSessions() {
        return RequestFuzz.createSessions();
    }
}
