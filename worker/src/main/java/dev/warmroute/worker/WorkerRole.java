package dev.warmroute.worker;

import dev.warmroute.cluster.ServerMain;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The worker as a {@link ServerMain} role: {@code ServerMain worker FLAGS} (the JVMs that tests, drills and
 * {@code cluster up} start) and {@code warmroute worker} take the flags of {@link WorkerOptions} and start a
 * {@link WorkerServer}. Registered in {@code META-INF/services}.
 */
public final class WorkerRole implements ServerMain.Role<WorkerOptions> {

    @Override
    public String name() {
        return "worker";
    }

    @Override
    public WorkerOptions newOptions() {
        return new WorkerOptions();
    }

    @Override
    public ServerMain.Started start(WorkerOptions options, PrometheusRegistry registry) throws Exception {
        WorkerConfig config = options.toConfig();
        WorkerServer worker = WorkerServer.start(config, registry);
        return new ServerMain.Started(worker.workerId(), worker, config.parentPid());
    }
}
