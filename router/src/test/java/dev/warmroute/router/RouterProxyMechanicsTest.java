package dev.warmroute.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.BreakerState;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.DrainWorkerRequest;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.GetSessionRequest;
import dev.warmroute.api.v1.ResumeState;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SendMessageRequest;
import dev.warmroute.api.v1.SendMessageResponse;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.api.v1.UndrainWorkerRequest;
import dev.warmroute.api.v1.WorkerHealth;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.InternalCredential;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.WorkerRegistry;
import dev.warmroute.testing.Await;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Unit test of the router's proxying mechanics: a real router (real gRPC, a real Hazelcast client of a real member in
 * this JVM) in front of {@link ScriptedWorker}s, gRPC servers that follow a script so that each failure can be placed
 * exactly (before the first token, after three tokens, a hang, a refusal). The scripted servers are not workers:
 * behaviour with real workers (warm paths, kill -9, same answers) is shown by {@code RouterClusterTest}.
 */
class RouterProxyMechanicsTest {

    // Per test: a member, a router and (once registerWorkers runs) four scripted workers of its own, so that no test
    // sees another's scripts, bindings, breaker states or counters.
    private HazelcastInstance member;
    private RouterServer router;
    private ManagedChannel channel;
    private final Map<String, ScriptedWorker> workers = new LinkedHashMap<>();
    private final Map<String, WorkerRegistry> registrations = new LinkedHashMap<>();

    @BeforeEach
    void start() throws Exception {
        String name = "mech-" + UUID.randomUUID().toString().substring(0, 8);
        member = HazelcastFactory.startMember(HazelcastSettings.builder().clusterName(name).port(0).build(), Map.of(),
                List.of(new WorkerRegistration.Serializer()));
        String address = "127.0.0.1:" + member.getCluster().getLocalMember().getAddress().getPort();
        RouterConfig config = RouterConfig.builder().port(0).routerId("router-test")
                .hazelcast(HazelcastSettings.builder().clusterName(name).members(List.of(address))
                        .mode(HazelcastSettings.Mode.CLIENT).build())
                .breaker(new RouterConfig.BreakerSettings(10, 50, 4, Duration.ofSeconds(30), 1))
                .shutdownGrace(Duration.ofSeconds(5)).build();
        router = RouterServer.start(config);
        // A small fixed window, so that flow control shows within a few hundred kilobytes.
        channel = NettyChannelBuilder.forAddress("127.0.0.1", router.port()).usePlaintext()
                .flowControlWindow(64 * 1024).build();
        Await.until(router::ready, Duration.ofSeconds(60), "router connected to the cluster");
    }

    /** Four scripted workers A, B, C, D (each answers five words), registered and serving in the router. */
    private void registerWorkers() throws Exception {
        for (String id : List.of("A", "B", "C", "D")) {
            ScriptedWorker w = new ScriptedWorker(id);
            w.script = ScriptedWorker.answer(id, 5);
            workers.put(id, w);
            WorkerRegistry r = new WorkerRegistry(member, Duration.ofSeconds(5));
            long now = System.currentTimeMillis();
            r.register(new WorkerRegistration(id, w.address(), 2, "scripted", "", now, now), Duration.ofSeconds(1),
                    Duration.ofSeconds(5));
            registrations.put(id, r);
        }
        Await.until(() -> router.directory().views().stream().filter(WorkerView::serving).count() == 4,
                Duration.ofSeconds(60), "4 serving workers in the router's directory");
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (router != null) {
            router.close();
        }
        registrations.values().forEach(WorkerRegistry::close);
        workers.values().forEach(ScriptedWorker::close);
        if (member != null) {
            member.shutdown();
        }
    }

    /** A session id whose hash prefers {@code worker} among all four. */
    private static String sessionPreferring(String worker) {
        List<String> all = List.of("A", "B", "C", "D");
        for (int i = 0; ; i++) {
            String s = "s-" + worker + "-" + UUID.randomUUID().toString().substring(0, 8);
            if (RendezvousHash.top(s, all).equals(worker)) {
                return s;
            }
        }
    }

    private static SendMessageRequest turn(String session) {
        return SendMessageRequest.newBuilder().setSessionId(session)
                .setMessage(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("hello")).build();
    }

    private List<SendMessageResponse> send(SendMessageRequest r) {
        List<SendMessageResponse> events = new ArrayList<>();
        Iterator<SendMessageResponse> it = ChatServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(r);
        it.forEachRemaining(events::add);
        return events;
    }

    /** Checks the stream's shape (one TurnStarted, contiguous deltas, one TurnComplete) and returns the text. */
    private static String assertContinuous(List<SendMessageResponse> events) {
        assertTrue(events.get(0).hasStarted(), "first event must be TurnStarted: " + events);
        assertTrue(events.get(events.size() - 1).hasComplete(), "last event must be TurnComplete");
        StringBuilder text = new StringBuilder();
        int next = 0;
        for (SendMessageResponse e : events.subList(1, events.size() - 1)) {
            assertTrue(e.hasDelta(), "only deltas between TurnStarted and TurnComplete: " + e);
            assertEquals(next, e.getDelta().getIndex(), "delta index");
            next += e.getDelta().getTokenIdsCount();
            text.append(e.getDelta().getText());
        }
        assertEquals(events.get(events.size() - 1).getComplete().getText(), text.toString());
        return text.toString();
    }

    private static TurnComplete completeOf(List<SendMessageResponse> events) {
        return events.get(events.size() - 1).getComplete();
    }

    @Test
    void answersUnavailableWithAClearMessageWhenNoWorkerIsRegistered() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> send(turn("lonely-1")));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertEquals("no worker is serving: 0 registered", e.getStatus().getDescription());
    }

    @Test
    void relaysAnAnswerAndBindsTheSessionToItsHashChoice() throws Exception {
        registerWorkers();
        String s = sessionPreferring("A");
        List<SendMessageResponse> events = send(turn(s));
        assertEquals(ScriptedWorker.words(0, 5), assertContinuous(events));
        TurnComplete c = completeOf(events);
        assertEquals("A", c.getWorkerId());
        assertEquals("router-test", c.getRouting().getRouterId());
        assertEquals("A", c.getRouting().getPreferredWorker());
        assertFalse(c.getRouting().getFallback());
        assertEquals(1, c.getRouting().getBindingEpoch());
        assertEquals(List.of("A"), c.getRouting().getAttemptedWorkersList());
        assertTrue(events.get(0).getStarted().hasRouting(), "TurnStarted carries routing too");
        assertFalse(workers.get("A").requests.get(workers.get("A").calls() - 1).getRequestId().isEmpty(),
                "the router generates a request id when the client gives none");
    }

    @Test
    void retriesTheNextCandidateWhenTheFirstFailsBeforeAnyTokenAndTheSessionStaysThere() throws Exception {
        registerWorkers();
        String s = sessionPreferring("A");
        ScriptedWorker a = workers.get("A");
        a.script = (r, h, out) -> out.onError(Status.UNAVAILABLE.withDescription("starting").asRuntimeException());
        try {
            List<SendMessageResponse> events = send(turn(s));
            assertEquals(ScriptedWorker.words(0, 5), assertContinuous(events));
            TurnComplete c = completeOf(events);
            assertNotEquals("A", c.getWorkerId());
            assertEquals("A", c.getRouting().getPreferredWorker());
            assertTrue(c.getRouting().getFallback());
            assertEquals("UNAVAILABLE: starting", c.getRouting().getFallbackReason());
            assertEquals(List.of("A", c.getWorkerId()), c.getRouting().getAttemptedWorkersList());
            assertFalse(c.getRouting().getResumed());
            String requestIdAtA = a.requests.get(a.calls() - 1).getRequestId();
            String requestIdAtB = workers.get(c.getWorkerId()).requests
                    .get(workers.get(c.getWorkerId()).calls() - 1).getRequestId();
            assertEquals(requestIdAtA, requestIdAtB, "a retry keeps the request id, so it is idempotent");

            // A is back: the session stays where it is now warm instead of moving back.
            a.script = ScriptedWorker.answer("A", 5);
            int callsAtA = a.calls();
            TurnComplete next = completeOf(send(turn(s)));
            assertEquals(c.getWorkerId(), next.getWorkerId());
            assertFalse(next.getRouting().getFallback(), "the binding, not the hash, is the preference now");
            assertEquals(c.getWorkerId(), next.getRouting().getPreferredWorker());
            assertEquals(callsAtA, a.calls());
        } finally {
            a.script = ScriptedWorker.answer("A", 5);
        }
    }

    @Test
    void resumesOnAnotherWorkerWithTheTokensAlreadySentWhenAWorkerDiesMidStream() throws Exception {
        registerWorkers();
        String s = sessionPreferring("B");
        ScriptedWorker b = workers.get("B");
        b.script = (r, h, out) -> {
            out.onNext(ScriptedWorker.started(r, "B", 4));
            for (int i = 0; i < 3; i++) {
                out.onNext(ScriptedWorker.delta(i, ScriptedWorker.word(i), 100 + i));
            }
            Thread.sleep(50);
            out.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
        };
        try {
            List<SendMessageResponse> events = send(turn(s).toBuilder().setRequestId("req-resume-1").build());
            assertEquals(ScriptedWorker.words(0, 5), assertContinuous(events));
            assertEquals(1, events.stream().filter(SendMessageResponse::hasStarted).count(), "TurnStarted once");
            TurnComplete c = completeOf(events);
            assertTrue(c.getRouting().getResumed());
            assertTrue(c.getRouting().getFallback());
            assertEquals("B", c.getRouting().getPreferredWorker());
            ScriptedWorker next = workers.get(c.getWorkerId());
            SendMessageRequest resumed = next.requests.get(next.calls() - 1);
            ResumeState rs = resumed.getResume();
            assertEquals(List.of(100, 101, 102), rs.getTokenIdsList());
            assertEquals(ScriptedWorker.words(0, 3), rs.getText());
            assertEquals(4, rs.getBaseVersion(), "base version is the turn index of the interrupted turn");
            assertEquals("B", rs.getFailedWorker());
            assertEquals(1, rs.getAttempt());
            assertEquals("req-resume-1", resumed.getRequestId());
            assertEquals(InternalCredential.obtain(member).token(),
                    next.headers.get(next.calls() - 1).get(InternalCredential.METADATA_KEY),
                    "a resume carries the cluster's internal credential");
        } finally {
            b.script = ScriptedWorker.answer("B", 5);
        }
    }

    @Test
    void passesClientErrorsThroughUnchangedWithoutTryingAnotherWorker() throws Exception {
        registerWorkers();
        String s = sessionPreferring("A");
        ScriptedWorker a = workers.get("A");
        a.script = (r, h, out) -> out.onError(Status.ABORTED.withDescription("another turn committed first")
                .asRuntimeException());
        int others = workers.get("B").calls() + workers.get("C").calls() + workers.get("D").calls();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> send(turn(s)));
            assertEquals(Status.Code.ABORTED, e.getStatus().getCode());
            assertEquals("another turn committed first", e.getStatus().getDescription());
            assertEquals(others, workers.get("B").calls() + workers.get("C").calls() + workers.get("D").calls());
        } finally {
            a.script = ScriptedWorker.answer("A", 5);
        }
    }

    @Test
    void refusesAClientThatSetsResumeAndBadIdsBeforeCallingAnyWorker() throws Exception {
        registerWorkers();
        int before = workers.values().stream().mapToInt(ScriptedWorker::calls).sum();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> send(turn("s-1").toBuilder()
                .setResume(ResumeState.newBuilder().addTokenIds(1)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("resume: "), e.getStatus().getDescription());
        StatusRuntimeException bad = assertThrows(StatusRuntimeException.class,
                () -> send(turn("no spaces allowed")));
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
        assertTrue(bad.getStatus().getDescription().startsWith("session_id: must be 1 to 128 characters"));
        StatusRuntimeException tokens = assertThrows(StatusRuntimeException.class, () -> send(turn("s-2").toBuilder()
                .setSampling(dev.warmroute.api.v1.SamplingParams.newBuilder().setMaxTokens(5000)).build()));
        assertEquals("sampling.max_tokens: 5000 is outside [1, 4096]", tokens.getStatus().getDescription());
        assertEquals(before, workers.values().stream().mapToInt(ScriptedWorker::calls).sum());
    }

    @Test
    void namesTheFieldOfInvalidUtf8InsteadOfAnsweringUnknown() throws Exception {
        registerWorkers();
        // session_id "s" (field 1), then message (field 3) holding content (field 2) with a lone 0xFF byte.
        byte[] content = {0x12, 0x01, (byte) 0xFF};
        byte[] request = new byte[3 + 2 + content.length];
        int i = 0;
        request[i++] = 0x0A;
        request[i++] = 0x01;
        request[i++] = 's';
        request[i++] = 0x1A;
        request[i++] = (byte) content.length;
        System.arraycopy(content, 0, request, i, content.length);
        io.grpc.MethodDescriptor.Marshaller<byte[]> raw = new io.grpc.MethodDescriptor.Marshaller<>() {
            @Override
            public java.io.InputStream stream(byte[] value) {
                return new java.io.ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(java.io.InputStream stream) {
                try {
                    return stream.readAllBytes();
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
        var method = ChatServiceGrpc.getSendMessageMethod().toBuilder(raw, raw).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> io.grpc.stub.ClientCalls
                .blockingServerStreamingCall(channel, method, io.grpc.CallOptions.DEFAULT
                        .withDeadlineAfter(30, TimeUnit.SECONDS), request).forEachRemaining(x -> { }));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("message.content: not valid UTF-8", e.getStatus().getDescription());
    }

    @Test
    void aSlowClientSlowsTheWorkerDownInsteadOfFillingTheRoutersMemory() throws Exception {
        registerWorkers();
        String s = sessionPreferring("A");
        ScriptedWorker a = workers.get("A");
        int total = 3500;
        String chunk = "x".repeat(1024);
        AtomicInteger sent = new AtomicInteger();
        AtomicBoolean blocked = new AtomicBoolean();
        a.script = (r, h, out) -> {
            out.onNext(ScriptedWorker.started(r, "A", 0));
            for (int i = 0; i < total; i++) {
                while (!out.isReady()) {
                    if (out.isCancelled()) {
                        return;
                    }
                    blocked.set(true);
                    Thread.sleep(1); // the worker respects flow control like a real one
                }
                blocked.set(false);
                out.onNext(ScriptedWorker.delta(i, chunk, 7));
                sent.incrementAndGet();
            }
            out.onNext(ScriptedWorker.complete(r, "A", 0, chunk.repeat(total), CacheStatus.CACHE_STATUS_WARM));
            out.onCompleted();
        };
        AtomicReference<ClientCallStreamObserver<SendMessageRequest>> call = new AtomicReference<>();
        AtomicInteger received = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        try {
            ChatServiceGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).sendMessage(turn(s),
                    new ClientResponseObserver<SendMessageRequest, SendMessageResponse>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<SendMessageRequest> rs) {
                            call.set(rs);
                            rs.disableAutoRequestWithInitial(1); // read TurnStarted, then nothing
                        }

                        @Override
                        public void onNext(SendMessageResponse value) {
                            received.incrementAndGet();
                        }

                        @Override
                        public void onError(Throwable t) {
                            error.set(t);
                            done.countDown();
                        }

                        @Override
                        public void onCompleted() {
                            done.countDown();
                        }
                    });
            // Wait until the worker is stuck: held by flow control (not merely slow on a busy machine), with no
            // progress since the last look.
            int last = -1;
            while (!(blocked.get() && sent.get() == last)) {
                last = sent.get();
                Thread.sleep(700);
            }
            // In transit at most: the worker's 32 KiB, the router's 1 MiB window from the worker, one message in
            // the router, its 32 KiB towards the client and the client's 64 KiB window: about 1.1 MiB.
            assertTrue(sent.get() < 2000, "with the client not reading, the worker still sent " + sent.get()
                    + " of " + total + " deltas of 1 KiB: something buffers without bound");
            call.get().request(Integer.MAX_VALUE);
            assertTrue(done.await(60, TimeUnit.SECONDS));
            assertEquals(null, error.get());
            assertEquals(total + 2, received.get());
        } finally {
            a.script = ScriptedWorker.answer("A", 5);
        }
    }

    @Test
    void aClientCancelReachesTheWorker() throws Exception {
        registerWorkers();
        String s = sessionPreferring("A");
        ScriptedWorker a = workers.get("A");
        CountDownLatch cancelled = new CountDownLatch(1);
        a.script = (r, h, out) -> {
            out.onNext(ScriptedWorker.started(r, "A", 0));
            for (int i = 0; i < 1000; i++) {
                if (out.isCancelled()) {
                    cancelled.countDown();
                    return;
                }
                out.onNext(ScriptedWorker.delta(i, ScriptedWorker.word(i), 100 + i));
                Thread.sleep(20);
            }
            out.onCompleted();
        };
        try {
            io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
            Iterator<SendMessageResponse> it = ctx.call(() -> ChatServiceGrpc.newBlockingStub(channel).sendMessage(
                    turn(s)));
            for (int i = 0; i < 4; i++) {
                it.next();
            }
            ctx.cancel(null);
            assertTrue(cancelled.await(30, TimeUnit.SECONDS), "the worker never saw the cancellation");
        } finally {
            a.script = ScriptedWorker.answer("A", 5);
        }
    }

    @Test
    void aWorkerThatLeavesTheClusterMidStreamIsAbandonedAndTheTurnResumed() throws Exception {
        registerWorkers();
        String s = sessionPreferring("C");
        ScriptedWorker c = workers.get("C");
        CountDownLatch hang = new CountDownLatch(1);
        CountDownLatch twoSent = new CountDownLatch(1);
        c.script = (r, h, out) -> {
            out.onNext(ScriptedWorker.started(r, "C", 0));
            out.onNext(ScriptedWorker.delta(0, ScriptedWorker.word(0), 100));
            out.onNext(ScriptedWorker.delta(1, ScriptedWorker.word(1), 101));
            twoSent.countDown();
            hang.await(); // hung: no error, no progress
        };
        try {
            List<SendMessageResponse> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            CountDownLatch clientHasTwo = new CountDownLatch(3);
            Thread client = Thread.ofVirtual().start(() -> {
                Iterator<SendMessageResponse> it = ChatServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(turn(s));
                while (it.hasNext()) {
                    events.add(it.next());
                    clientHasTwo.countDown();
                }
            });
            assertTrue(twoSent.await(30, TimeUnit.SECONDS));
            // Only once the client holds the two tokens is this a mid-stream failure.
            assertTrue(clientHasTwo.await(30, TimeUnit.SECONDS));
            registrations.get("C").deregister(); // what a registry expiry or a member loss does to the router
            client.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(client.isAlive());
            assertEquals(ScriptedWorker.words(0, 5), assertContinuous(events));
            TurnComplete done = completeOf(events);
            assertTrue(done.getRouting().getResumed());
            assertTrue(done.getRouting().getFallbackReason().contains("left the cluster"),
                    done.getRouting().getFallbackReason());
        } finally {
            hang.countDown();
            c.script = ScriptedWorker.answer("C", 5);
            long now = System.currentTimeMillis();
            registrations.get("C").register(new WorkerRegistration("C", c.address(), 2, "scripted", "", now, now),
                    Duration.ofSeconds(1), Duration.ofSeconds(5));
            Await.until(() -> router.directory().get("C") != null
                    && router.directory().get("C").health() == WorkerHandle.Health.SERVING, "C back");
        }
    }

    @Test
    void forwardsUnaryCallsWithTheCallersIdentity() throws Exception {
        registerWorkers();
        Metadata h = new Metadata();
        h.put(CallMetadata.OWNER, "alice@example");
        h.put(InternalCredential.METADATA_KEY, "forged");
        Session got = ChatServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h))
                .getSession(GetSessionRequest.newBuilder().setSessionId("s-x").build());
        assertEquals("alice@example", got.getOwner());
        for (ScriptedWorker w : workers.values()) {
            for (Metadata seen : w.headers) {
                assertFalse("forged".equals(seen.get(InternalCredential.METADATA_KEY)),
                        "a client's x-warmroute-internal header must never reach a worker");
            }
        }
    }

    @Test
    void drainingStopsNewPlacementsButNotTheLastWorkerWithoutForce() throws Exception {
        registerWorkers();
        var admin = AdminServiceGrpc.newBlockingStub(channel);
        String bound = sessionPreferring("D");
        assertEquals("D", completeOf(send(turn(bound))).getWorkerId());
        admin.drainWorker(DrainWorkerRequest.newBuilder().setWorkerId("D").build());
        try {
            String fresh = sessionPreferring("D");
            TurnComplete c = completeOf(send(turn(fresh)));
            assertNotEquals("D", c.getWorkerId(), "a drained worker gets no new sessions");
            assertEquals("D", completeOf(send(turn(bound))).getWorkerId(), "its bound sessions stay");

            admin.drainWorker(DrainWorkerRequest.newBuilder().setWorkerId("A").build());
            admin.drainWorker(DrainWorkerRequest.newBuilder().setWorkerId("B").build());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> admin.drainWorker(DrainWorkerRequest.newBuilder().setWorkerId("C").build()));
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
            StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                    () -> admin.drainWorker(DrainWorkerRequest.newBuilder().setWorkerId("Z").build()));
            assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
            ClusterStatus status = admin.getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
            assertEquals(4, status.getWorkersCount());
            assertEquals(WorkerHealth.WORKER_HEALTH_DRAINING, status.getWorkers(0).getHealth());
            assertEquals(WorkerHealth.WORKER_HEALTH_SERVING, status.getWorkers(2).getHealth());
            assertTrue(status.getClusterSafe());
            assertEquals(1, status.getClusterMembers());
            assertEquals(1.25, status.getLoadBoundFactor());
            assertTrue(status.getTurnsTotal() > 0);
        } finally {
            for (String id : List.of("A", "B", "D")) {
                admin.undrainWorker(UndrainWorkerRequest.newBuilder().setWorkerId(id).build());
            }
        }
    }

    @Test
    void breakerOpensAfterRepeatedFailuresAndPlacementThenSkipsTheWorker() throws Exception {
        registerWorkers();
        ScriptedWorker d = workers.get("D");
        d.script = (r, h, out) -> out.onError(Status.UNAVAILABLE.withDescription("overloaded host")
                .asRuntimeException());
        try {
            // Each failure on D is hidden by a fallback, until the window holds enough failures to open the breaker
            // (10 calls, 50 %, at least 4).
            int failures = 0;
            while (router.directory().get("D").breaker().getState()
                    == io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED) {
                TurnComplete c = completeOf(send(turn(sessionPreferring("D"))));
                assertEquals(List.of("D", c.getWorkerId()), c.getRouting().getAttemptedWorkersList());
                assertTrue(++failures <= 10, "breaker still closed after " + failures + " failures");
            }
            assertTrue(failures >= 2, "opened after " + failures + " failures");
            int callsAtD = d.calls();
            TurnComplete c = completeOf(send(turn(sessionPreferring("D"))));
            assertEquals(callsAtD, d.calls(), "an open breaker is not called");
            assertEquals(List.of(c.getWorkerId()), c.getRouting().getAttemptedWorkersList());
            assertEquals("D", c.getRouting().getPreferredWorker());
            assertEquals("breaker open", c.getRouting().getFallbackReason());
            WorkerStatus ds = AdminServiceGrpc.newBlockingStub(channel)
                    .getClusterStatus(GetClusterStatusRequest.getDefaultInstance()).getWorkersList().stream()
                    .filter(w -> w.getWorkerId().equals("D")).findFirst().orElseThrow();
            assertEquals(BreakerState.BREAKER_STATE_OPEN, ds.getBreaker());
            assertEquals(WorkerHealth.WORKER_HEALTH_BROKEN, ds.getHealth());
            assertEquals(failures, ds.getTurnsFailed());
        } finally {
            d.script = ScriptedWorker.answer("D", 5);
        }
    }

    @Test
    void fullWorkersOpenNoBreakerAndAFullClusterAnswersResourceExhaustedWithRetryAfterAtOnce() throws Exception {
        registerWorkers();
        Metadata overloaded = new Metadata();
        overloaded.put(CallMetadata.OVERLOADED, "compute queue full (capacity 2)");
        for (ScriptedWorker w : workers.values()) {
            w.script = (r, h, out) -> out.onError(Status.RESOURCE_EXHAUSTED.withDescription("worker overloaded: 2 "
                    + "turns running and 16 queued").asRuntimeException(overloaded));
        }
        int turns = 20;
        for (int i = 0; i < turns; i++) {
            AtomicReference<Metadata> trailers = new AtomicReference<>();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> {
                Iterator<SendMessageResponse> it = ChatServiceGrpc.newBlockingStub(channel)
                        .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(),
                                trailers))
                        .withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(turn(sessionPreferring("A")));
                it.forEachRemaining(x -> { });
            });
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().startsWith("cluster at capacity: 4 workers x capacity 2 turns "
                    + "in flight; A and "), e.getStatus().getDescription());
            assertTrue(e.getStatus().getDescription().endsWith(" refused the turn as full; retry after 1 s"),
                    e.getStatus().getDescription());
            assertEquals("1", e.getTrailers().get(CallMetadata.RETRY_AFTER), "retry-after before any turn was timed: "
                    + "the configured default");
        }
        int calls = workers.values().stream().mapToInt(ScriptedWorker::calls).sum();
        assertEquals(2 * turns, calls, "each turn tried on its first choice and one other worker, no more");
        for (String id : workers.keySet()) {
            assertEquals(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED,
                    router.directory().get(id).breaker().getState(), "a full worker is not a failed one: " + id);
            assertEquals(0, router.directory().get(id).breaker().getMetrics().getNumberOfBufferedCalls(), id);
        }
        ClusterStatus st = AdminServiceGrpc.newBlockingStub(channel)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
        assertEquals(turns, st.getTurnsShed());
        assertEquals(0, st.getBreakerOpens());
    }

    @Test
    void aWorkerFullOfAnotherRoutersTurnsIsPassedOverAndItsSpilledSessionReturnsWhenItHasRoom() throws Exception {
        registerWorkers();
        String s = sessionPreferring("A");
        // A reports two turns of another router: at its capacity of 2, though this router runs none there.
        Map<String, Integer> aLoad = new java.util.concurrent.ConcurrentHashMap<>(Map.of("router-other", 2));
        registrations.get("A").reportLoad(() -> Map.copyOf(aLoad));
        Await.until(() -> router.directory().get("A").othersInFlight() == 2, Duration.ofSeconds(30),
                "the router sees A's load report");
        int callsAtA = workers.get("A").calls();
        TurnComplete spilled = completeOf(send(turn(s)));
        assertNotEquals("A", spilled.getWorkerId());
        assertEquals(callsAtA, workers.get("A").calls(), "A was not offered more than its capacity");
        assertEquals("at capacity (2 turns in flight, capacity 2)", spilled.getRouting().getFallbackReason());
        assertEquals(Binding.Kind.SPILLED, router.bindings().getFresh(s).kind());
        WorkerStatus as = AdminServiceGrpc.newBlockingStub(channel)
                .getClusterStatus(GetClusterStatusRequest.getDefaultInstance()).getWorkersList().stream()
                .filter(w -> w.getWorkerId().equals("A")).findFirst().orElseThrow();
        assertEquals(2, as.getOtherRoutersInFlight());
        assertEquals(2, as.getAdmissionLimit());

        // The other router's turns end: the session goes back to its first choice, which still has its cache.
        aLoad.clear();
        Await.until(() -> router.directory().get("A").othersInFlight() == 0, Duration.ofSeconds(30),
                "the router sees A's new load report");
        TurnComplete back = completeOf(send(turn(s)));
        assertEquals("A", back.getWorkerId());
        assertTrue(back.getRouting().getRebalanced(), "reported as a move to its hash's first choice");
        assertEquals(spilled.getWorkerId(), back.getRouting().getRebalancedFrom());
        assertEquals(Binding.Kind.PREFERRED, router.bindings().getFresh(s).kind());
    }

    @Test
    void aGracefulStopGoesNotServingAndLetsRunningTurnsFinish() throws Exception {
        registerWorkers();
        String s = sessionPreferring("B");
        ScriptedWorker b = workers.get("B");
        CountDownLatch streaming = new CountDownLatch(1);
        b.script = (r, h, out) -> {
            out.onNext(ScriptedWorker.started(r, "B", 0));
            for (int i = 0; i < 20; i++) {
                out.onNext(ScriptedWorker.delta(i, ScriptedWorker.word(i), 100 + i));
                streaming.countDown();
                Thread.sleep(50);
            }
            out.onNext(ScriptedWorker.complete(r, "B", 0, ScriptedWorker.words(0, 20), CacheStatus.CACHE_STATUS_WARM));
            out.onCompleted();
        };
        List<io.grpc.health.v1.HealthCheckResponse.ServingStatus> health = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.grpc.health.v1.HealthGrpc.newStub(channel).watch(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance(),
                new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(io.grpc.health.v1.HealthCheckResponse value) {
                        health.add(value.getStatus());
                    }

                    @Override
                    public void onError(Throwable t) { }

                    @Override
                    public void onCompleted() { }
                });
        Await.until(() -> !health.isEmpty(), "health watch answered");
        assertEquals(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING, health.get(0));
        java.util.concurrent.CompletableFuture<List<SendMessageResponse>> turn =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> send(turn(s)));
        assertTrue(streaming.await(30, TimeUnit.SECONDS));
        Thread stopper = Thread.ofPlatform().start(router::close);
        List<SendMessageResponse> events = turn.get(60, TimeUnit.SECONDS);
        assertEquals(ScriptedWorker.words(0, 20), assertContinuous(events), "the running turn finished");
        stopper.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(stopper.isAlive());
        assertTrue(health.contains(io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING),
                "health went NOT_SERVING first: " + health);
        StatusRuntimeException after = assertThrows(StatusRuntimeException.class, () -> send(turn(s)));
        assertEquals(Status.Code.UNAVAILABLE, after.getStatus().getCode());
    }
}
