package dev.warmroute.cluster;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Builds the gRPC servers of workers and routers the same way: Netty on a host and port (0 = any free port),
 * standard health checking and server reflection, keepalive settings that notice dead clients, and the given
 * interceptors around every service.
 */
public final class GrpcServers {

    private GrpcServers() {}

    /**
     * Starts a server.
     *
     * @param executor runs the services' calls. Handlers must not block on long work (generation runs on its own
     *                 threads), so a small bounded pool is enough; {@code null} uses gRPC's default cached pool.
     */
    public static Server start(String host, int port, HealthStatusManager health, List<BindableService> services,
            List<ServerInterceptor> interceptors, Executor executor) throws IOException {
        return start(host, port, InsecureServerCredentials.create(), health, services, interceptors, executor);
    }

    /** {@link #start} with {@code credentials}: TLS (or mutual TLS) on every service, health included. */
    public static Server start(String host, int port, ServerCredentials credentials, HealthStatusManager health,
            List<BindableService> services, List<ServerInterceptor> interceptors, Executor executor)
            throws IOException {
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port), credentials)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                // A client that vanished without closing its connection is noticed within about 30 s.
                .keepAliveTime(20, TimeUnit.SECONDS)
                .keepAliveTimeout(10, TimeUnit.SECONDS)
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .maxInboundMessageSize(4 * 1024 * 1024);
        if (executor != null) {
            builder.executor(executor);
        }
        for (BindableService service : services) {
            ServerServiceDefinition definition = service.bindService();
            builder.addService(ServerInterceptors.intercept(definition, interceptors));
        }
        return builder.build().start();
    }
}
