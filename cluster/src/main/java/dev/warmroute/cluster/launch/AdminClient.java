package dev.warmroute.cluster.launch;

import dev.warmroute.api.v1.AdminServiceGrpc;
import dev.warmroute.api.v1.ClusterStatus;
import dev.warmroute.api.v1.DrainWorkerRequest;
import dev.warmroute.api.v1.GetClusterStatusRequest;
import dev.warmroute.api.v1.UndrainWorkerRequest;
import dev.warmroute.api.v1.WorkerStatus;
import dev.warmroute.cluster.auth.BearerToken;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A client of the router's AdminService: status, drain, undrain; every call with a deadline. */
public final class AdminClient implements AutoCloseable {

    private final ManagedChannel channel;

    private final Metadata headers;

    /** Sends {@code $WARMROUTE_TOKEN} as the bearer token when it is set (the CLI's commands). */
    public AdminClient(String target) {
        this(target, System.getenv(BearerToken.ENV));
    }

    /** @param token bearer token of an admin principal, or null for a router without authentication */
    public AdminClient(String target, String token) {
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        this.headers = BearerToken.headers(token);
    }

    public ClusterStatus status(boolean includeWorkerStats, Duration deadline) {
        return stub(deadline).getClusterStatus(GetClusterStatusRequest.newBuilder()
                .setIncludeWorkerStats(includeWorkerStats).build());
    }

    public WorkerStatus drain(String workerId, boolean force, Duration deadline) {
        return stub(deadline).drainWorker(DrainWorkerRequest.newBuilder().setWorkerId(workerId).setForce(force)
                .build()).getWorker();
    }

    public WorkerStatus undrain(String workerId, Duration deadline) {
        return stub(deadline).undrainWorker(UndrainWorkerRequest.newBuilder().setWorkerId(workerId).build())
                .getWorker();
    }

    private AdminServiceGrpc.AdminServiceBlockingStub stub(Duration deadline) {
        return AdminServiceGrpc.newBlockingStub(channel).withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
