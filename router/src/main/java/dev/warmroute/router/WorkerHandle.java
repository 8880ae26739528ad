package dev.warmroute.router;

import dev.warmroute.cluster.HostPort;
import dev.warmroute.cluster.WorkerRegistration;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker as this router talks to it: one gRPC channel (reused by every call, closed when the worker leaves), the
 * {@link Permit}s that calls take from it (in-flight slots under the load bound, its bulkhead, its breaker), and its
 * gRPC health followed by a {@code Health.Watch} stream that reconnects while the worker is registered.
 *
 * <p>The watch is the one call without a deadline: it is meant to stay open. A worker that dies ends it at once
 * (connection reset); one that hangs is caught by the channel's keepalive pings and by the registry's heartbeat TTL.
 */
public final class WorkerHandle {

    private static final Logger log = LoggerFactory.getLogger(WorkerHandle.class);

    /** gRPC health of the worker as last reported. */
    public enum Health { UNKNOWN, SERVING, NOT_SERVING }

    private final String id;
    private volatile WorkerRegistration registration;
    private final ManagedChannel channel;
    private final CircuitBreaker breaker;
    private final Bulkhead bulkhead;
    private final ScheduledExecutorService timer;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    private final LongAdder routed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder breakerOpens = new LongAdder();
    /** Queued turns this router may add beyond the worker's capacity; negative: no capacity bound (tests). */
    private final int admitQueued;
    /** This router's id: the worker's load report counts its turns under it, and they are counted here already. */
    private final java.util.function.Supplier<String> routerId;
    /** Permits not yet ended: the calls this router runs on the worker now. */
    private final Set<Permit> permits = ConcurrentHashMap.newKeySet();
    private volatile Health health = Health.UNKNOWN;
    private volatile boolean closed;
    private volatile ClientCallStreamObserver<HealthCheckRequest> watch;
    private int watchFailures;

    /** A handle without a capacity bound (its callers bound it themselves: tests of permits). */
    WorkerHandle(WorkerRegistration registration, CircuitBreaker breaker, Bulkhead bulkhead,
            ScheduledExecutorService timer, int flowControlWindow) {
        this(registration, breaker, bulkhead, timer, flowControlWindow, -1, () -> "", () -> { },
                InsecureChannelCredentials.create());
    }

    /** A plaintext channel to the worker. */
    WorkerHandle(WorkerRegistration registration, CircuitBreaker breaker, Bulkhead bulkhead,
            ScheduledExecutorService timer, int flowControlWindow, int admitQueued,
            java.util.function.Supplier<String> routerId, Runnable onOpen) {
        this(registration, breaker, bulkhead, timer, flowControlWindow, admitQueued, routerId, onOpen,
                InsecureChannelCredentials.create());
    }

    /**
     * @param admitQueued turns of the worker's queue this router may fill beyond its capacity
     *                    ({@link RouterConfig#admitQueued}); negative: no capacity bound
     * @param routerId    this router's id, as its calls to the worker carry it ({@code x-warmroute-router})
     * @param onOpen      called each time the breaker opens
     * @param credentials what the channel to the worker speaks: plaintext, TLS or mutual TLS
     */
    WorkerHandle(WorkerRegistration registration, CircuitBreaker breaker, Bulkhead bulkhead,
            ScheduledExecutorService timer, int flowControlWindow, int admitQueued,
            java.util.function.Supplier<String> routerId, Runnable onOpen, ChannelCredentials credentials) {
        this.admitQueued = admitQueued;
        this.routerId = routerId;
        breaker.getEventPublisher().onStateTransition(e -> {
            if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                breakerOpens.increment();
                onOpen.run();
                log.warn("worker.breaker-open worker={} transition={} failure_rate={}", registration.workerId(),
                        e.getStateTransition(), breaker.getMetrics().getFailureRate());
            }
        });
        this.id = registration.workerId();
        this.registration = registration;
        this.breaker = breaker;
        this.bulkhead = bulkhead;
        this.timer = timer;
        HostPort address = HostPort.parse(registration.address(), "worker address");
        // One channel per worker for all calls. Keepalive notices a hung worker (or a black-holed host) within about
        // 15 s even with no call running; the worker's server permits pings every 5 s. A fixed window per stream
        // (no auto-tuning) bounds what a turn can have in transit from its worker while its client is slow.
        // Callbacks of calls to the worker run on the transport's own threads (directExecutor): a relayed token
        // then costs no thread hand-off. They must never block, so the one blocking step of a turn (moving a
        // session's binding) runs elsewhere (BindingMove).
        // gRPC's own retries are off: the router retries and resumes turns itself, on the next placement candidate
        // (TurnProxy, ChatProxy), and the retry layer wraps every call in a RetriableStream that buffers its
        // messages, about 0.15 ms of the hop per turn (docs/benchmarks.md, Router). A stream the worker refuses
        // before it starts (e.g. it is going away) is then an UNAVAILABLE attempt the router retries elsewhere.
        this.channel = NettyChannelBuilder.forAddress(address.host(), address.port(), credentials)
                .disableRetry()
                .directExecutor()
                .flowControlWindow(flowControlWindow)
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(true)
                .maxInboundMessageSize(4 * 1024 * 1024)
                .build();
    }

    public String id() {
        return id;
    }

    public WorkerRegistration registration() {
        return registration;
    }

    void refresh(WorkerRegistration r) {
        registration = r;
    }

    public ManagedChannel channel() {
        return channel;
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    public Bulkhead bulkhead() {
        return bulkhead;
    }

    public Health health() {
        return health;
    }

    public boolean closed() {
        return closed;
    }

    /** Turns this router is running on the worker now. */
    public int inFlight() {
        return inFlight.get();
    }

    /**
     * Turns the worker ran for other routers at its last load report ({@code WorkerRegistration.load}, at most a
     * report interval old); 0 without a report.
     */
    public int othersInFlight() {
        return registration.inFlightExcept(routerId.get());
    }

    /**
     * The most turns this router lets the worker hold, its own and the other routers' together: the worker's
     * advertised capacity plus the part of its queue this router may fill; 0 = no bound.
     */
    public int admissionLimit() {
        if (admitQueued < 0) {
            return 0;
        }
        WorkerRegistration r = registration;
        return r.capacity() + Math.min(r.queue(), admitQueued);
    }

    /** Times the breaker opened since the worker joined. */
    public long breakerOpens() {
        return breakerOpens.sum();
    }

    /** The most turns this router has run on the worker at once since it joined. */
    public int peakInFlight() {
        return peakInFlight.get();
    }

    public long turnsRouted() {
        return routed.sum();
    }

    public long turnsFailed() {
        return failed.sum();
    }

    /**
     * Admits a placed call (a turn, or the creation of a session): one in-flight slot if the worker holds fewer than
     * {@code maxInFlight} (atomically: two turns placed at once cannot both take the last slot; {@code maxInFlight <=
     * 0} takes one whatever the load), a place in the bulkhead and the breaker's permission, in that order. A refusal
     * gives back what was taken.
     */
    public Admission tryAcquire(int maxInFlight) {
        // The capacity counts the other routers' turns too (the worker's load report); the load bound this
        // router's own, which are exact and current.
        int others = othersInFlight();
        int limit = admissionLimit();
        int byCapacity = limit > 0 ? limit - others : Integer.MAX_VALUE;
        int byLoad = maxInFlight > 0 ? maxInFlight : Integer.MAX_VALUE;
        if (!takeSlot(Math.min(byCapacity, byLoad))) {
            int own = inFlight.get();
            if (own >= byCapacity) {
                return new Admission.Refusal(id, Admission.Why.AT_CAPACITY, FailurePolicy.FULL + ": at capacity ("
                        + (own + others) + " turns in flight, " + others + " of them other routers', limit " + limit
                        + ")");
            }
            return new Admission.Refusal(id, Admission.Why.AT_LOAD_BOUND, "at its load bound (" + maxInFlight
                    + " turns in flight)");
        }
        if (!bulkhead.tryAcquirePermission()) {
            inFlight.decrementAndGet();
            return new Admission.Refusal(id, Admission.Why.BULKHEAD_FULL, "bulkhead full ("
                    + bulkhead.getBulkheadConfig().getMaxConcurrentCalls() + " calls in flight)");
        }
        if (!breaker.tryAcquirePermission()) {
            bulkhead.onComplete();
            inFlight.decrementAndGet();
            return new Admission.Refusal(id, Admission.Why.BREAKER_OPEN, "breaker "
                    + breaker.getState().name().toLowerCase(java.util.Locale.ROOT) + ", no trial call free");
        }
        routed.increment();
        return out(new Permit(this, true));
    }

    /**
     * Admits a forwarded unary call (GetSession, DeleteSession, ListSessions): the breaker's permission only. These
     * calls are short and not placed by load, so they take no slot and no bulkhead place.
     */
    public Admission tryAcquireCall() {
        if (!breaker.tryAcquirePermission()) {
            return new Admission.Refusal(id, Admission.Why.BREAKER_OPEN, "breaker open");
        }
        return out(new Permit(this, false));
    }

    /** Takes one of this router's slots if it holds fewer than {@code ownLimit} ({@code MAX_VALUE}: no bound). */
    private boolean takeSlot(int ownLimit) {
        while (true) {
            int cur = inFlight.get();
            if (cur >= ownLimit) {
                return false;
            }
            if (inFlight.compareAndSet(cur, cur + 1)) {
                peakInFlight.accumulateAndGet(cur + 1, Math::max);
                return true;
            }
        }
    }

    private Permit out(Permit p) {
        permits.add(p);
        if (closed) {
            p.abandon("worker " + id + " left the cluster");
        }
        return p;
    }

    /** A permit's outcome was reported: it no longer runs here; a placed call's slot and bulkhead place are free. */
    void ended(Permit p, boolean placed) {
        permits.remove(p);
        if (placed) {
            bulkhead.onComplete();
            inFlight.decrementAndGet();
        }
    }

    void countFailure() {
        failed.increment();
    }

    /** Starts following the worker's gRPC health. */
    void watchHealth() {
        if (closed) {
            return;
        }
        HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService("").build(),
                new ClientResponseObserver<HealthCheckRequest, HealthCheckResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<HealthCheckRequest> requestStream) {
                        watch = requestStream;
                    }

                    @Override
                    public void onNext(HealthCheckResponse r) {
                        Health h = r.getStatus() == HealthCheckResponse.ServingStatus.SERVING ? Health.SERVING
                                : Health.NOT_SERVING;
                        synchronized (WorkerHandle.this) {
                            watchFailures = 0;
                        }
                        if (h != health) {
                            log.info("worker.health worker={} health={}", id, h);
                        }
                        health = h;
                    }

                    @Override
                    public void onError(Throwable t) {
                        rewatch(io.grpc.Status.fromThrowable(t).toString());
                    }

                    @Override
                    public void onCompleted() {
                        rewatch("health stream ended");
                    }
                });
    }

    private void rewatch(String why) {
        if (closed) {
            return;
        }
        if (health != Health.NOT_SERVING) {
            log.info("worker.health worker={} health=NOT_SERVING reason=\"{}\"", id, why);
        }
        health = Health.NOT_SERVING;
        long delayMs;
        synchronized (this) {
            watchFailures++;
            delayMs = Math.min(2000, 100L << Math.min(5, watchFailures - 1));
        }
        try {
            timer.schedule(this::watchHealth, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the router is stopping
        }
    }

    /** The worker left: stop the watch, end the calls still running on it, close the channel. */
    void close(String why) {
        closed = true;
        health = Health.NOT_SERVING;
        ClientCallStreamObserver<HealthCheckRequest> w = watch;
        if (w != null) {
            w.cancel("worker left", null);
        }
        for (Permit p : Set.copyOf(permits)) {
            p.abandon("worker " + id + " left the cluster (" + why + ")");
        }
        channel.shutdownNow();
    }
}
