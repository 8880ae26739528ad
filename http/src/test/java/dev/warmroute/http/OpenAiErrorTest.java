package dev.warmroute.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

class OpenAiErrorTest {

    @Test
    void keepsOurMessageAndNamesTheFieldItStartsWith() {
        OpenAiError e = OpenAiError.fromStatus(Status.INVALID_ARGUMENT.withDescription(
                "message.content: 40000 bytes exceeds the limit of 32768 bytes"));
        assertEquals(400, e.httpStatus());
        assertEquals("invalid_request_error", e.type());
        assertEquals("message.content", e.param());
        assertEquals("message.content: 40000 bytes exceeds the limit of 32768 bytes", e.getMessage());
        assertNull(OpenAiError.fromStatus(Status.INVALID_ARGUMENT.withDescription("bad thing, no field")).param());
    }

    @Test
    void tellsAFullContextFromAnOverload() {
        OpenAiError full = OpenAiError.fromStatus(Status.RESOURCE_EXHAUSTED.withDescription(
                "context full: the prompt needs 600 tokens, the budget is 512"));
        assertEquals(400, full.httpStatus());
        assertEquals("context_length_exceeded", full.code());
        OpenAiError busy = OpenAiError.fromStatus(Status.RESOURCE_EXHAUSTED.withDescription(
                "worker overloaded: 2 turns running and 16 waiting"));
        assertEquals(429, busy.httpStatus());
        assertEquals("rate_limit_error", busy.type());
    }

    @Test
    void mapsEveryStatusToTheHttpStatusClientsRetryOrNot() {
        assertEquals(404, OpenAiError.fromStatus(Status.NOT_FOUND.withDescription("x")).httpStatus());
        assertEquals(409, OpenAiError.fromStatus(Status.ABORTED.withDescription("x")).httpStatus());
        assertEquals(503, OpenAiError.fromStatus(Status.UNAVAILABLE.withDescription("x")).httpStatus());
        assertEquals(504, OpenAiError.fromStatus(Status.DEADLINE_EXCEEDED).httpStatus());
        assertEquals(401, OpenAiError.fromStatus(Status.UNAUTHENTICATED).httpStatus());
        assertEquals(403, OpenAiError.fromStatus(Status.PERMISSION_DENIED).httpStatus());
        assertEquals(500, OpenAiError.fromStatus(Status.INTERNAL.withDescription("error id 7")).httpStatus());
        assertEquals("DEADLINE_EXCEEDED", OpenAiError.fromStatus(Status.DEADLINE_EXCEEDED).getMessage());
    }

    @Test
    void carriesTheRetryAfterHintOfARefusal() {
        io.grpc.Metadata t = new io.grpc.Metadata();
        t.put(dev.warmroute.cluster.CallMetadata.RETRY_AFTER, "2");
        OpenAiError shed = OpenAiError.fromStatus(Status.RESOURCE_EXHAUSTED.withDescription("cluster at capacity: 3"
                + " workers x capacity 1 turns in flight; retry after 2 s").asRuntimeException(t));
        org.junit.jupiter.api.Assertions.assertEquals(429, shed.httpStatus());
        org.junit.jupiter.api.Assertions.assertEquals("2", shed.retryAfter());
        io.grpc.Metadata junk = new io.grpc.Metadata();
        junk.put(dev.warmroute.cluster.CallMetadata.RETRY_AFTER, "soon\r\nSet-Cookie: x");
        org.junit.jupiter.api.Assertions.assertNull(OpenAiError.fromStatus(Status.RESOURCE_EXHAUSTED
                .asRuntimeException(junk)).retryAfter(), "only a number of seconds reaches the HTTP header");
        org.junit.jupiter.api.Assertions.assertNull(OpenAiError.fromStatus(Status.UNAVAILABLE.asRuntimeException())
                .retryAfter());
    }
}
