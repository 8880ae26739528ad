package dev.warmroute.router;

import dev.warmroute.api.v1.ChatServiceGrpc;
import dev.warmroute.cluster.CallMetadata;
import dev.warmroute.cluster.CallerIdentity;
import dev.warmroute.cluster.LogSafe;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-principal limits at the router's front door: calls per second to ChatService (a resilience4j
 * {@link RateLimiter} per principal) and turns running at once (a resilience4j {@link Bulkhead} per principal, held
 * from the start of a SendMessage until the call ends however it ends). A call over a limit is refused before it
 * reaches a worker with RESOURCE_EXHAUSTED naming the limit and its flag, and a {@code retry-after} trailer (seconds).
 *
 * <p>Why resilience4j: the router already uses its breakers and bulkheads per worker; its RateLimiter refreshes
 * permits per period without a thread of its own. Principals are kept in a bounded LRU map
 * ({@link Settings#maxPrincipals}); a principal pushed out by newer ones starts with fresh limiters.
 *
 * <p>The limits are per router: with R routers a principal may use up to R times them (a router does not share
 * counters over Hazelcast, which would cost a remote call per request).
 */
final class PrincipalLimits implements ServerInterceptor {

    private static final Logger log = LoggerFactory.getLogger(PrincipalLimits.class);

    /**
     * @param callsPerSecond ChatService calls per second per principal; 0: no limit
     * @param turns          SendMessage calls running at once per principal; 0: no limit
     * @param maxPrincipals  principals whose limiters are kept (least recently seen dropped first)
     */
    record Settings(int callsPerSecond, int turns, int maxPrincipals) {
        static final Settings OFF = new Settings(0, 0, 100_000);

        Settings {
            if (callsPerSecond < 0 || callsPerSecond > 1_000_000) {
                throw new IllegalArgumentException("limit-calls-per-second: must be in [0, 1000000], got "
                        + callsPerSecond);
            }
            if (turns < 0 || turns > 100_000) {
                throw new IllegalArgumentException("limit-turns: must be in [0, 100000], got " + turns);
            }
            if (maxPrincipals < 1) {
                throw new IllegalArgumentException("maxPrincipals: must be positive, got " + maxPrincipals);
            }
        }

        boolean any() {
            return callsPerSecond > 0 || turns > 0;
        }
    }

    private record Limiters(RateLimiter rate, Bulkhead turns) {}

    private final Settings settings;
    private final Map<String, Limiters> byPrincipal;
    private final Counter refused;

    PrincipalLimits(Settings settings, PrometheusRegistry registry) {
        this.settings = settings;
        this.byPrincipal = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Limiters> eldest) {
                return size() > settings.maxPrincipals();
            }
        };
        this.refused = Counter.builder().name("warmroute_router_limited")
                .help("Calls refused by a per-principal limit (limit: rate or turns)").labelNames("limit")
                .register(registry);
        // Both limits exist from the start (at zero), so dashboards and alerts see no gap before the first refusal.
        refused.labelValues("rate");
        refused.labelValues("turns");
    }

    Settings settings() {
        return settings;
    }

    private synchronized Limiters limiters(String principal) {
        return byPrincipal.computeIfAbsent(principal, p -> new Limiters(
                settings.callsPerSecond() > 0 ? RateLimiter.of("calls-" + p, RateLimiterConfig.custom()
                        .limitForPeriod(settings.callsPerSecond()).limitRefreshPeriod(Duration.ofSeconds(1))
                        .timeoutDuration(Duration.ZERO).writableStackTraceEnabled(false).build()) : null,
                settings.turns() > 0 ? Bulkhead.of("turns-" + p, BulkheadConfig.custom()
                        .maxConcurrentCalls(settings.turns()).maxWaitDuration(Duration.ZERO)
                        .writableStackTraceEnabled(false).build()) : null));
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        if (!settings.any() || !call.getMethodDescriptor().getServiceName().equals(ChatServiceGrpc.SERVICE_NAME)) {
            return next.startCall(call, headers);
        }
        String principal = CallerIdentity.owner();
        Limiters l = limiters(principal);
        if (l.rate() != null && !l.rate().acquirePermission()) {
            return refuse(call, "rate", "calls per second: '" + principal + "' may make " + settings.callsPerSecond()
                    + " ChatService calls per second (--limit-calls-per-second); retry after 1 s", principal);
        }
        boolean turn = call.getMethodDescriptor().getFullMethodName()
                .equals(ChatServiceGrpc.getSendMessageMethod().getFullMethodName());
        if (!turn || l.turns() == null) {
            return next.startCall(call, headers);
        }
        if (!l.turns().tryAcquirePermission()) {
            return refuse(call, "turns", "concurrent turns: '" + principal + "' has " + settings.turns()
                    + " turns running, the limit (--limit-turns); retry when one ends", principal);
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                l.turns().onComplete();
            }
        };
        ServerCall<Q, R> releasing = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                release.run();
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(releasing, headers);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                release.run();
                super.onCancel();
            }
        };
    }

    private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String limit, String message,
            String principal) {
        refused.labelValues(limit).inc();
        log.info("limit.refused principal={} limit={} method={}", LogSafe.id(principal), limit,
                call.getMethodDescriptor().getBareMethodName());
        Metadata trailers = new Metadata();
        trailers.put(CallMetadata.RETRY_AFTER, "1");
        call.close(Status.RESOURCE_EXHAUSTED.withDescription(message), trailers);
        return new ServerCall.Listener<>() {};
    }
}
