package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import dev.warmroute.cluster.session.SessionSerializers;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The credential follows the cluster's control entry: after the entry is re-created (a full restart, two members
 * lost), a holder of the old value accepts the new one. Before, a router read it once and every resume it sent
 * afterwards was refused.
 */
class InternalCredentialTest {

    private static HazelcastInstance hz;

    @BeforeAll
    static void start() {
        hz = HazelcastFactory.startMember(HazelcastSettings.builder().clusterName("cred-" + UUID.randomUUID())
                .port(0).build(), Map.of(), SessionSerializers.all());
    }

    @AfterAll
    static void stop() {
        if (hz != null) {
            hz.getLifecycleService().terminate();
        }
    }

    @Test
    void everyProcessGetsTheSameValueAndFollowsItsReCreation() {
        InternalCredential worker = InternalCredential.obtain(hz);
        InternalCredential router = InternalCredential.obtain(hz);
        assertEquals(worker.token(), router.token());
        String old = worker.token();

        hz.getMap(ClusterMaps.CONTROL).clear(); // the control entry is lost ...
        InternalCredential restarted = InternalCredential.obtain(hz); // ... and a restarted process makes a new one
        assertNotEquals(old, restarted.token());

        assertTrue(worker.matches(restarted.token()), "a mismatch makes the holder read the entry again");
        assertEquals(restarted.token(), worker.token());
        assertFalse(worker.matches(old), "the old value is no longer accepted");
        assertFalse(worker.matches(null));
        assertFalse(InternalCredential.of("fixed").matches("other"));
    }
}
