package dev.warmroute.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import dev.warmroute.cluster.ApiLimits;
import dev.warmroute.cluster.LogSafe;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import dev.warmroute.cluster.InternalErrors;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.RequestException;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/chat/completions}: one request is one turn of ChatService.SendMessage, streamed as server-sent
 * events or answered as one JSON object.
 *
 * <p>Threads and back-pressure: Helidon runs each request on its own virtual thread, which reads the gRPC stream
 * through a blocking iterator (one message requested at a time) and writes each piece to the socket with a blocking,
 * flushed write. A client that reads slowly blocks the write, so no more messages are requested, so gRPC's flow
 * control holds the router and the worker back: nothing piles up here. A client that goes away makes the write fail;
 * the gRPC call is then cancelled, and a cancelled turn commits nothing.
 *
 * <p>Failover is the router's: a worker that dies mid-answer is invisible here, the router resumes the stream on
 * another worker and this handler sees one continuous answer.
 */
final class ChatCompletions implements Handler {

    private static final Logger log = LoggerFactory.getLogger(ChatCompletions.class);
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

    private final Upstream upstream;
    private final Conversations conversations;
    private final ModelCatalog catalog;
    private final CompletionRequestParser parser;
    private final CompletionJson out;
    private final ObjectMapper json;
    private final FrontMetrics metrics;
    private final InternalErrors internal = new InternalErrors("http front", log, "http.error");

    ChatCompletions(Upstream upstream, ModelCatalog catalog, ObjectMapper json, FrontMetrics metrics) {
        this.upstream = upstream;
        this.conversations = new Conversations(upstream);
        this.catalog = catalog;
        this.parser = new CompletionRequestParser(json);
        this.out = new CompletionJson(json);
        this.json = json;
        this.metrics = metrics;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        long t0 = System.nanoTime();
        metrics.began();
        int status = 200;
        try {
            status = serve(req, res, t0);
        } catch (OpenAiError e) {
            status = HttpFront.sendError(res, out, e);
        } catch (StatusRuntimeException e) {
            status = HttpFront.sendError(res, out, OpenAiError.fromStatus(e));
        } catch (HttpException | RequestException e) {
            throw e; // Helidon's own answers (a body over the limit: 413)
        } catch (RuntimeException e) {
            // A bug of ours: 500 with an id that is also in the log line with the stack trace, never a trace.
            status = HttpFront.sendError(res, out, OpenAiError.fromStatus(internal.report(e).getStatus()));
        } finally {
            metrics.ended();
            metrics.answered("chat_completions", status);
        }
    }

    private int serve(ServerRequest req, ServerResponse res, long t0) {
        CompletionRequest request = parser.parse(req.content().as(byte[].class));
        Upstream.Caller caller = Upstream.Caller.of(header(req, "x-warmroute-owner"), header(req, "authorization"));
        String sessionHeader = Conversations.sessionIdFromHeader(header(req, "x-session-id"));
        String key = idempotencyKey(header(req, "idempotency-key"));
        ModelCatalog.Model model = catalog.require(request.model());
        Conversations.Target target = conversations.resolve(caller, request, sessionHeader);
        try {
            if (target.repeatOfLast() && key == null) {
                throw new OpenAiError(409, "conflict_error", "messages", "repeated_turn", "messages: the request "
                        + "repeats the last committed turn of session '" + target.sessionId() + "' (a retry?); "
                        + "send it with the same Idempotency-Key header as the first attempt to get the stored answer, "
                        + "or send a new user message");
            }
            SendMessageRequest send = sendRequest(request, target, key);
            Context.CancellableContext context = Context.current().withCancellation();
            try {
                Iterator<SendMessageResponse> events = start(caller, target, send, context);
                SendMessageResponse first = events.next();
                if (!first.hasStarted()) {
                    throw new OpenAiError(502, "server_error", null, "bad_gateway", "the turn's stream did not open "
                            + "with TurnStarted (got " + first.getEventCase() + ")");
                }
                TurnStarted started = first.getStarted();
                CompletionJson.Head head = new CompletionJson.Head("chatcmpl-" + started.getRequestId(),
                        System.currentTimeMillis() / 1000, model.id());
                if (!target.stateless()) {
                    res.header("x-session-id", target.sessionId());
                }
                res.header("x-request-id", started.getRequestId());
                res.header("x-warmroute-worker", started.getWorkerId());
                // As known when the turn started; the final event says what it was in the end (after a resume).
                res.header("x-warmroute-cache", CompletionJson.cacheStatus(started.getCache()));
                return request.stream()
                        ? stream(res, events, head, target, request.includeUsage(), t0, context)
                        : whole(res, events, head, target, t0);
            } finally {
                context.cancel(null);
            }
        } finally {
            if (target.stateless()) {
                try {
                    conversations.removeStateless(caller, target);
                } catch (StatusRuntimeException e) {
                    log.warn("http.stateless-remove-failed session={} status={}: the one-turn session stays until it "
                            + "expires", LogSafe.id(target.sessionId()), e.getStatus());
                }
            }
        }
    }

    /**
     * Starts the turn and waits for its first event (TurnStarted), so that a failure before the answer began is
     * still an HTTP error status. A session named by the request but never created is created here, once.
     */
    private Iterator<SendMessageResponse> start(Upstream.Caller caller, Conversations.Target target,
            SendMessageRequest send, Context.CancellableContext context) {
        Iterator<SendMessageResponse> events = upstream.sendMessage(caller, send, context);
        try {
            events.hasNext();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.NOT_FOUND || target.knownToExist()) {
                throw e;
            }
            conversations.createIfAbsent(caller, target.sessionId());
            events = upstream.sendMessage(caller, send, context);
            events.hasNext();
        }
        if (!events.hasNext()) {
            throw new OpenAiError(502, "server_error", null, "bad_gateway", "the turn's stream ended before it "
                    + "started (no TurnStarted event)");
        }
        return events;
    }

    private int whole(ServerResponse res, Iterator<SendMessageResponse> events, CompletionJson.Head head,
            Conversations.Target target, long t0) {
        boolean first = true;
        while (events.hasNext()) {
            SendMessageResponse e = events.next();
            if (e.hasDelta() && first && !e.getDelta().getText().isEmpty()) {
                first = false;
                metrics.firstToken(false, seconds(t0));
            } else if (e.hasComplete()) {
                TurnComplete done = e.getComplete();
                if (first) {
                    metrics.firstToken(false, seconds(t0));
                }
                setOutcomeHeaders(res, done);
                byte[] body = bytes(out.completion(head, done, target));
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(body);
                completed(done, t0);
                return 200;
            }
        }
        throw new OpenAiError(502, "server_error", null, "bad_gateway", "the turn's stream ended without its "
                + "final event (TurnComplete); nothing was committed");
    }

    private int stream(ServerResponse res, Iterator<SendMessageResponse> events, CompletionJson.Head head,
            Conversations.Target target, boolean includeUsage, long t0, Context.CancellableContext context) {
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        OutputStream sink = res.outputStream();
        try {
            Emitter emit = new Emitter(sink, context);
            emit.data(out.chunk(head, "assistant", ""));
            long last = 0;
            try {
                while (events.hasNext()) {
                    SendMessageResponse e = events.next();
                    if (e.hasDelta()) {
                        String text = e.getDelta().getText();
                        if (text.isEmpty()) {
                            continue; // a token that ends inside a multi-byte character: its text comes next
                        }
                        emit.data(out.chunk(head, null, text));
                        long now = System.nanoTime();
                        if (last == 0) {
                            metrics.firstToken(true, (now - t0) / 1e9);
                        } else {
                            metrics.tokenGap((now - last) / 1e9);
                        }
                        last = now;
                    } else if (e.hasComplete()) {
                        TurnComplete done = e.getComplete();
                        if (last == 0) {
                            metrics.firstToken(true, seconds(t0));
                        }
                        emit.data(out.finalChunk(head, done, target));
                        if (includeUsage) {
                            emit.data(out.usageChunk(head, done));
                        }
                        emit.done();
                        completed(done, t0);
                        return 200;
                    }
                }
                throw new OpenAiError(502, "server_error", null, "bad_gateway", "the turn's stream ended without "
                        + "its final event (TurnComplete); nothing was committed");
            } catch (StatusRuntimeException e) {
                // The answer began (HTTP 200 is sent): OpenAI's clients read an error object in the stream.
                OpenAiError error = OpenAiError.fromStatus(e);
                emitError(emit, error, target);
                return error.httpStatus();
            } catch (OpenAiError error) {
                emitError(emit, error, target);
                return error.httpStatus();
            }
        } catch (ClientGone gone) {
            log.info("http.client-gone session={}: the turn was cancelled, nothing committed",
                    LogSafe.id(target.sessionId()));
            return 499;
        } finally {
            try {
                sink.close();
            } catch (IOException | RuntimeException e) {
                log.debug("http.sse-close-failed session={}: {}", LogSafe.id(target.sessionId()), e.toString());
            }
        }
    }

    private void emitError(Emitter emit, OpenAiError error, Conversations.Target target) {
        log.info("http.stream-failed session={} status={} message=\"{}\"", LogSafe.id(target.sessionId()),
                error.httpStatus(), LogSafe.text(error.getMessage()));
        emit.data(out.error(error));
    }

    private void completed(TurnComplete done, long t0) {
        metrics.completed(seconds(t0), done.getUsage().getPromptTokens(), done.getUsage().getReusedTokens(),
                done.getUsage().getGeneratedTokens());
    }

    private static void setOutcomeHeaders(ServerResponse res, TurnComplete done) {
        res.header("x-warmroute-worker", done.getWorkerId());
        res.header("x-warmroute-cache", CompletionJson.cacheStatus(done.getCache()));
    }

    private SendMessageRequest sendRequest(CompletionRequest r, Conversations.Target target, String key) {
        SamplingParams.Builder sampling = SamplingParams.newBuilder();
        if (r.temperature() != null) {
            sampling.setTemperature(r.temperature());
        }
        if (r.topP() != null) {
            sampling.setTopP(r.topP());
        }
        if (r.maxTokens() != null) {
            sampling.setMaxTokens(r.maxTokens());
        }
        if (r.seed() != null) {
            sampling.setSeed(r.seed());
        }
        return SendMessageRequest.newBuilder().setSessionId(target.sessionId()).setRequestId(key == null ? "" : key)
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(r.last().content()))
                .setSampling(sampling).build();
    }

    /** OpenAI's Idempotency-Key header becomes the turn's request_id: a retry after a commit replays the answer. */
    private static String idempotencyKey(String header) {
        if (header == null) {
            return null;
        }
        if (!ApiLimits.ID.matcher(header).matches()) {
            throw OpenAiError.invalid("Idempotency-Key", "header becomes the turn's request_id, so it must be "
                    + ApiLimits.ID_RULE + ", got '" + CompletionRequestParser.abbreviate(header) + "'");
        }
        return header;
    }

    private static String header(ServerRequest req, String name) {
        return req.headers().first(HeaderNames.create(name)).orElse(null);
    }

    private byte[] bytes(ObjectNode node) {
        try {
            return json.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The client closed the connection while the answer streamed. */
    private static final class ClientGone extends RuntimeException {
        ClientGone(Throwable cause) {
            super(cause.toString(), cause, false, false);
        }
    }

    /**
     * Writes server-sent events as OpenAI sends them: one {@code data: <json>} line and a blank line per event, flushed
     * each time (Helidon's SseSink is not used: it serves only requests that accept text/event-stream, and OpenAI's
     * clients ask for application/json). A write that fails means the client is gone, which cancels the turn at once.
     */
    private final class Emitter {
        private final OutputStream sink;
        private final Context.CancellableContext context;

        Emitter(OutputStream sink, Context.CancellableContext context) {
            this.sink = sink;
            this.context = context;
        }

        void data(ObjectNode node) {
            send(bytes(node));
        }

        void done() {
            send(DONE);
        }

        private void send(byte[] data) {
            try {
                sink.write(DATA);
                sink.write(data);
                sink.write(END);
                sink.flush();
            } catch (IOException | RuntimeException e) {
                context.cancel(e);
                throw new ClientGone(e);
            }
        }
    }
}
