package dev.warmroute.http;

import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.GetWorkerStatsRequest;
import dev.warmroute.api.v1.WorkerServiceGrpc;
import dev.warmroute.api.v1.WorkerStats;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.auth.LocalCredential;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The models the server behind the front serves, for {@code GET /v1/models} and for checking a request's
 * {@code model}. The front knows nothing of the engine, so it asks the gRPC side: a router answers
 * {@code AdminService.GetClusterStatus} with every worker's stats, a worker answers {@code WorkerService} (a router
 * does not serve it, a worker does not serve AdminService: UNIMPLEMENTED tells which one is there). Kept for a few
 * seconds, so a turn costs no extra call.
 */
final class ModelCatalog {

    /** One model: its id, context length, and whether it is synthetic (random weights: answers are not language). */
    record Model(String id, int contextLength, boolean synthetic) {}

    private static final long TTL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Upstream upstream;
    private volatile List<Model> models = List.of();
    private volatile long fetchedAt;

    ModelCatalog(Upstream upstream) {
        this.upstream = upstream;
    }

    /** The models served now (cached up to 10 s); a gRPC failure of the lookup is thrown as it is. */
    List<Model> models() {
        long now = System.nanoTime();
        if (models.isEmpty() || now - fetchedAt > TTL_NANOS) {
            List<Model> fresh = fetch();
            models = fresh;
            fetchedAt = now;
        }
        return models;
    }

    /** The model a request names, or 404 model_not_found listing the ones served. */
    Model require(String id) {
        List<Model> served = models();
        for (Model m : served) {
            if (m.id().equals(id)) {
                return m;
            }
        }
        if (served.isEmpty()) {
            throw new OpenAiError(503, "service_unavailable", "model", "no_model",
                    "model: no worker is registered, so no model is served yet; retry when one is");
        }
        throw new OpenAiError(404, "invalid_request_error", "model", "model_not_found", "model: '"
                + CompletionRequestParser.abbreviate(id) + "' is not served here; this deployment serves "
                + String.join(", ", served.stream().map(m -> "'" + m.id() + "'").toList()) + " (GET /v1/models)");
    }

    private List<Model> fetch() {
        long ms = upstream.unaryTimeout().toMillis();
        Map<String, Model> out = new LinkedHashMap<>();
        try {
            ClusterStatus status = AdminServiceGrpc.newBlockingStub(upstream.channel())
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(LocalCredential.headers()))
                    .withDeadlineAfter(ms, TimeUnit.MILLISECONDS)
                    .getClusterStatus(GetClusterStatusRequest.newBuilder().setIncludeWorkerStats(true).build());
            for (WorkerStatus w : status.getWorkersList()) {
                if (w.hasStats() && !w.getStats().getModelId().isEmpty()) {
                    out.putIfAbsent(w.getStats().getModelId(), model(w.getStats()));
                }
            }
            return new ArrayList<>(out.values());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
                throw e;
            }
        }
        WorkerStats stats = WorkerServiceGrpc.newBlockingStub(upstream.channel())
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(LocalCredential.headers()))
                .withDeadlineAfter(ms, TimeUnit.MILLISECONDS).getWorkerStats(GetWorkerStatsRequest.getDefaultInstance());
        return List.of(model(stats));
    }

    private static Model model(WorkerStats s) {
        return new Model(s.getModelId(), s.getContextLength(), s.getModelSynthetic());
    }
}
