package dev.warmroute.router;

import dev.warmroute.cluster.InternalCredential;
import java.util.function.Supplier;

/**
 * What the router's services (ChatService, AdminService) and each turn need from the running router.
 *
 * @param id         the router's id, known once its port is bound
 * @param credential the cluster's internal credential (a resumed turn carries it), null until connected
 */
record RouterEnv(Supplier<String> id, RouterConfig config, SessionRouter router, RouterMetrics metrics,
        Supplier<InternalCredential> credential) {

    String routerId() {
        return id.get();
    }
}
