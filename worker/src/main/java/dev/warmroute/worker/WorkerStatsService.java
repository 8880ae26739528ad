package dev.warmroute.worker;

import dev.warmroute.api.v1.GetWorkerStatsRequest;
import dev.warmroute.api.v1.WorkerServiceGrpc;
import dev.warmroute.api.v1.WorkerStats;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** WorkerService: this worker's figures, from the same counters as its Prometheus metrics. */
final class WorkerStatsService extends WorkerServiceGrpc.WorkerServiceImplBase {

    private final Supplier<WorkerStats> stats;

    WorkerStatsService(Supplier<WorkerStats> stats) {
        this.stats = stats;
    }

    @Override
    public void getWorkerStats(GetWorkerStatsRequest request, StreamObserver<WorkerStats> out) {
        out.onNext(stats.get());
        out.onCompleted();
    }
}
