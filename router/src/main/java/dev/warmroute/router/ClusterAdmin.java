package dev.warmroute.router;

import com.google.protobuf.Timestamp;
import com.hazelcast.core.HazelcastInstance;
import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.BreakerState;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.DrainWorkerRequest;
import dev.warmroute.api.v1.DrainWorkerResponse;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.GetWorkerStatsRequest;
import dev.warmroute.api.v1.UndrainWorkerRequest;
import dev.warmroute.api.v1.UndrainWorkerResponse;
import dev.warmroute.api.v1.WorkerHealth;
import dev.warmroute.api.v1.WorkerServiceGrpc;
import dev.warmroute.api.v1.WorkerStats;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.CallerIdentity;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.ClusterSafety;
import dev.warmroute.cluster.InternalErrors;
import dev.warmroute.cluster.RequestChecks;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdminService: what the cluster looks like from this router, and draining.
 *
 * <p>Everything here has a deadline; a figure the cluster could not give in time is left at zero and the call still
 * answers (status is what operators read when things go wrong). Sessions bound per worker are counted by the members
 * (an aggregation with a predicate on the binding's worker), one small answer per worker. {@code cluster_safe} comes
 * from a member: a client cannot ask ({@link ClusterSafety}).
 */
final class ClusterAdmin extends AdminServiceGrpc.AdminServiceImplBase {

    private static final Logger log = LoggerFactory.getLogger(ClusterAdmin.class);
    private static final InternalErrors ERRORS = new InternalErrors("router", log, "admin.error");
    private static final Duration STATS_DEADLINE = Duration.ofSeconds(2);

    private final RouterEnv env;
    private final WorkerDirectory directory;
    private final Supplier<HazelcastInstance> hazelcast;
    private final BooleanSupplier ready;

    ClusterAdmin(RouterEnv env, WorkerDirectory directory, Supplier<HazelcastInstance> hazelcast,
            BooleanSupplier ready) {
        this.env = env;
        this.directory = directory;
        this.hazelcast = hazelcast;
        this.ready = ready;
    }

    @Override
    public void getClusterStatus(GetClusterStatusRequest request, StreamObserver<ClusterStatus> out) {
        ERRORS.unary(out, () -> {
            requireReady();
            List<WorkerHandle> workers = directory.all();
            List<CompletableFuture<WorkerStats>> stats = new ArrayList<>();
            for (WorkerHandle h : workers) {
                stats.add(request.getIncludeWorkerStats() ? workerStats(h) : CompletableFuture.completedFuture(null));
            }
            ClusterStatus.Builder b = ClusterStatus.newBuilder().setRouterId(env.routerId())
                    .setLoadBoundFactor(env.router().placement().loadFactor());
            BindingStore store = env.router().bindings();
            for (int i = 0; i < workers.size(); i++) {
                WorkerStatus.Builder w = status(workers.get(i)).toBuilder();
                try {
                    w.setSessionsBound(store.countBoundTo(workers.get(i).id()));
                } catch (BindingStore.StoreUnavailableException e) {
                    log.warn("status.bound-count-failed worker={}: {}", workers.get(i).id(), e.getMessage());
                }
                try {
                    WorkerStats s = stats.get(i).get(STATS_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
                    if (s != null) {
                        w.setStats(s);
                    }
                } catch (Exception e) {
                    log.debug("status.worker-stats-failed worker={}: {}", workers.get(i).id(), e.toString());
                }
                b.addWorkers(w);
            }
            HazelcastInstance hz = hazelcast.get();
            b.setClusterMembers(hz.getCluster().getMembers().size());
            b.setClusterSafe(clusterSafe(hz));
            try {
                b.setSessionsBound(store.size());
                b.setSessionsTotal(store.call(() -> (long) hz.getMap(ClusterMaps.SESSIONS).size(),
                        "counting sessions"));
            } catch (BindingStore.StoreUnavailableException e) {
                log.warn("status.count-failed: {}", e.getMessage());
            }
            RouterMetrics m = env.metrics();
            b.setTurnsTotal(m.turnsTotal()).setTurnsWarm(m.turnsWarm()).setTurnsFallback(m.turnsFallback())
                    .setTurnsResumed(m.turnsResumed()).setTurnsFailed(m.turnsFailed())
                    .setWarmHitRate1M(m.warmHitRate1m()).setPlacementMode(env.router().mode().flag())
                    .setRebalance(env.router().rebalancing()).setRebalanceRate(env.router().rebalanceRate())
                    .setTurnsRebalanced(m.turnsRebalanced())
                    .setRebalancesDeferred(env.router().rebalancesDeferred())
                    .setTurnsShed(m.turnsShed()).setBreakerOpens(directory.breakerOpens());
            return b.build();
        });
    }

    @Override
    public void drainWorker(DrainWorkerRequest request, StreamObserver<DrainWorkerResponse> out) {
        ERRORS.unary(out, () -> {
            requireReady();
            WorkerHandle h = worker(request.getWorkerId());
            if (!request.getForce()) {
                boolean another = false;
                for (WorkerView v : directory.views()) {
                    if (!v.id().equals(h.id()) && v.serving() && !v.draining() && !v.breakerOpen()) {
                        another = true;
                        break;
                    }
                }
                if (!another) {
                    throw Status.FAILED_PRECONDITION.withDescription("worker " + h.id() + " is the last serving "
                            + "worker: draining it leaves no worker for new sessions; set force to drain anyway")
                            .asRuntimeException();
                }
            }
            setDraining(h.id(), true);
            return DrainWorkerResponse.newBuilder().setWorker(status(h)).build();
        });
    }

    @Override
    public void undrainWorker(UndrainWorkerRequest request, StreamObserver<UndrainWorkerResponse> out) {
        ERRORS.unary(out, () -> {
            requireReady();
            WorkerHandle h = worker(request.getWorkerId());
            setDraining(h.id(), false);
            return UndrainWorkerResponse.newBuilder().setWorker(status(h)).build();
        });
    }

    private void setDraining(String workerId, boolean drain) {
        try {
            directory.setDraining(workerId, drain, env.routerId());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } catch (Exception e) {
            throw Status.UNAVAILABLE.withDescription("the drain flag of " + workerId + " could not be written to the "
                    + "cluster in time: " + e).asRuntimeException();
        }
    }

    private WorkerHandle worker(String id) {
        if (id == null || id.isEmpty()) {
            throw RequestChecks.invalid("worker_id", "required");
        }
        WorkerHandle h = directory.get(id);
        if (h == null) {
            throw Status.NOT_FOUND.withDescription("no registered worker '" + id + "'; registered: "
                    + directory.all().stream().map(WorkerHandle::id).toList()).asRuntimeException();
        }
        return h;
    }

    private void requireReady() {
        if (!ready.getAsBoolean()) {
            throw Status.UNAVAILABLE.withDescription("router " + env.routerId() + " is not connected to the cluster "
                    + "yet; retry shortly").asRuntimeException();
        }
    }

    /** One worker as this router sees it (without the bound-session count, which needs the cluster). */
    WorkerStatus status(WorkerHandle h) {
        WorkerView v = directory.view(h);
        CircuitBreaker.State s = h.breaker().getState();
        BreakerState breaker = switch (s) {
            case CLOSED -> BreakerState.BREAKER_STATE_CLOSED;
            case OPEN -> BreakerState.BREAKER_STATE_OPEN;
            case HALF_OPEN -> BreakerState.BREAKER_STATE_HALF_OPEN;
            case DISABLED, METRICS_ONLY -> BreakerState.BREAKER_STATE_DISABLED;
            case FORCED_OPEN -> BreakerState.BREAKER_STATE_FORCED_OPEN;
        };
        WorkerHealth health = !v.serving() ? WorkerHealth.WORKER_HEALTH_NOT_SERVING
                : v.breakerOpen() ? WorkerHealth.WORKER_HEALTH_BROKEN
                : v.draining() ? WorkerHealth.WORKER_HEALTH_DRAINING
                : WorkerHealth.WORKER_HEALTH_SERVING;
        long registered = h.registration().registeredAtMs();
        return WorkerStatus.newBuilder().setWorkerId(h.id()).setAddress(h.registration().address())
                .setHealth(health).setBreaker(breaker).setInFlight(h.inFlight()).setPeakInFlight(h.peakInFlight())
                .setCapacity(h.registration().capacity()).setDraining(v.draining())
                .setTurnsRouted(h.turnsRouted()).setTurnsFailed(h.turnsFailed())
                .setBreakerOpens(h.breakerOpens()).setOtherRoutersInFlight(h.othersInFlight())
                .setAdmissionLimit(h.admissionLimit())
                .setRegisteredTime(Timestamp.newBuilder().setSeconds(registered / 1000)
                        .setNanos((int) (registered % 1000) * 1_000_000))
                .build();
    }

    private CompletableFuture<WorkerStats> workerStats(WorkerHandle h) {
        CompletableFuture<WorkerStats> f = new CompletableFuture<>();
        // The cluster's credential: a worker with --auth-* serves WorkerService to routers and token holders only.
        WorkerServiceGrpc.newStub(h.channel()).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
                        CallerIdentity.forwardHeaders(env.credential().get())))
                .withDeadlineAfter(STATS_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .getWorkerStats(GetWorkerStatsRequest.getDefaultInstance(), new StreamObserver<>() {
                    @Override
                    public void onNext(WorkerStats value) {
                        f.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        f.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        f.complete(null);
                    }
                });
        return f;
    }

    private boolean clusterSafe(HazelcastInstance hz) {
        try {
            return hz.getExecutorService(ClusterSafety.EXECUTOR).submit(new ClusterSafety())
                    .get(STATS_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            log.warn("status.cluster-safe-unknown: {}", e.toString());
            return false;
        }
    }
}
