package dev.warmroute.router;

import dev.warmroute.api.v1.CacheOutcome;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.TokenDelta;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.TurnStarted;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.GrpcServers;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A gRPC server in the test JVM that answers ChatService calls with a script: for unit tests of the router's
 * proxying mechanics (retry, resume, flow control, pass-through). It is not a worker and the tests that use it say so;
 * tests of real behaviour run real workers in their own JVMs.
 */
final class ScriptedWorker implements AutoCloseable {

    /** What the server does with one SendMessage call; runs on its own thread (may block). */
    interface Script {
        void run(SendMessageRequest request, Metadata headers, ServerCallStreamObserver<SendMessageResponse> out)
                throws Exception;
    }

    private static final Context.Key<Metadata> HEADERS = Context.key("scripted-headers");

    final String id;
    final HealthStatusManager health = new HealthStatusManager();
    final List<SendMessageRequest> requests = new CopyOnWriteArrayList<>();
    final List<Metadata> headers = new CopyOnWriteArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Server server;
    volatile Script script;

    ScriptedWorker(String id) throws IOException {
        this.id = id;
        ServerInterceptor capture = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata h,
                    ServerCallHandler<Q, R> next) {
                return Contexts.interceptCall(Context.current().withValue(HEADERS, h), call, h, next);
            }
        };
        this.server = GrpcServers.start("127.0.0.1", 0, health, List.of(new Service()), List.of(capture), null);
    }

    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    int calls() {
        return requests.size();
    }

    @Override
    public void close() {
        server.shutdownNow();
        threads.shutdownNow();
    }

    private final class Service extends ChatServiceGrpc.ChatServiceImplBase {
        @Override
        public void sendMessage(SendMessageRequest request, StreamObserver<SendMessageResponse> observer) {
            Metadata h = HEADERS.get();
            requests.add(request);
            headers.add(h);
            ServerCallStreamObserver<SendMessageResponse> out = (ServerCallStreamObserver<SendMessageResponse>) observer;
            out.setOnCancelHandler(() -> { });
            Script s = script;
            threads.execute(() -> {
                try {
                    s.run(request, h, out);
                } catch (Exception e) {
                    try {
                        out.onError(io.grpc.Status.INTERNAL.withDescription("script failed: " + e).asRuntimeException());
                    } catch (RuntimeException ignored) {
                        // the call is already closed
                    }
                }
            });
        }

        @Override
        public void getSession(GetSessionRequest request, StreamObserver<Session> out) {
            Metadata h = HEADERS.get();
            String owner = h.get(CallMetadata.OWNER);
            out.onNext(Session.newBuilder().setSessionId(request.getSessionId())
                    .setOwner(owner == null ? "anonymous" : owner).setModelId("served-by-" + id).build());
            out.onCompleted();
        }
    }

    // ---- building blocks of scripts ----

    static SendMessageResponse started(SendMessageRequest r, String worker, int turnIndex) {
        return SendMessageResponse.newBuilder().setStarted(TurnStarted.newBuilder().setRequestId(r.getRequestId())
                .setTurnIndex(turnIndex).setWorkerId(worker).setCache(CacheOutcome.newBuilder()
                        .setStatus(CacheStatus.CACHE_STATUS_COLD))).build();
    }

    static SendMessageResponse delta(int index, String text, int token) {
        return SendMessageResponse.newBuilder().setDelta(TokenDelta.newBuilder().setIndex(index).setText(text)
                .addTokenIds(token)).build();
    }

    static SendMessageResponse complete(SendMessageRequest r, String worker, int turnIndex, String text,
            CacheStatus cache) {
        return SendMessageResponse.newBuilder().setComplete(TurnComplete.newBuilder().setRequestId(r.getRequestId())
                .setTurnIndex(turnIndex).setVersion(turnIndex + 1L).setText(text).setWorkerId(worker)
                .setCache(CacheOutcome.newBuilder().setStatus(cache))).build();
    }

    /** The word-per-token answer these tests use: token i is 100 + i, its text " w" + i. */
    static String word(int i) {
        return " w" + i;
    }

    static String words(int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            sb.append(word(i));
        }
        return sb.toString();
    }

    /** Answers {@code n} tokens from index {@code from} (0 for a new turn, the resume length for a resumed one). */
    static Script answer(String worker, int n) {
        return (r, h, out) -> {
            int from = r.hasResume() ? r.getResume().getTokenIdsCount() : 0;
            out.onNext(started(r, worker, 0));
            for (int i = from; i < n; i++) {
                out.onNext(delta(i, word(i), 100 + i));
            }
            out.onNext(complete(r, worker, 0, words(0, n), CacheStatus.CACHE_STATUS_WARM));
            out.onCompleted();
        };
    }
}
