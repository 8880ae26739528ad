package dev.warmroute.cluster.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.session.CreateSession;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.SessionSerializers;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Split-brain protection from the configured cluster size: a cluster of 3 needs 2 members to touch sessions, so a
 * member alone (the smaller side of a split, or the first one up) refuses, and accepts once a second one has joined.
 */
class QuorumTest {

    @Test
    void aMemberWithoutAQuorumOfTheConfiguredSizeRefusesSessionsUntilASecondJoins() throws Exception {
        HazelcastSettings settings = HazelcastSettings.builder().clusterName("quorum-" + UUID.randomUUID())
                .port(0).clusterSize(3).build();
        assertEquals(2, settings.quorum());
        assertEquals(1, settings.initialMinClusterSize(), "the first member starts alone");
        HazelcastInstance first = HazelcastFactory.startMember(settings, Map.of(), SessionSerializers.all());
        HazelcastInstance second = null;
        try {
            SessionRecord r = SessionStoreFixtures.newSession("q1");
            // Even the map's proxy (its index is set up by an operation on the map) waits for the quorum.
            assertThrows(SplitBrainProtectionException.class, () -> first.<String, SessionRecord>getMap(
                    ClusterMaps.SESSIONS).executeOnKey("q1", new CreateSession(r)));
            HazelcastSettings joiner = settings.toBuilder().members(List.of(
                    first.getCluster().getLocalMember().getAddress().getHost() + ":"
                            + first.getCluster().getLocalMember().getAddress().getPort())).build();
            assertEquals(2, joiner.initialMinClusterSize(), "a member with seeds waits for the quorum");
            second = HazelcastFactory.startMember(joiner, Map.of(), SessionSerializers.all());
            // The protection follows membership events, which arrive a moment after the join returns.
            SessionRecord stored = null;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (stored == null) {
                try {
                    IMap<String, SessionRecord> map = first.getMap(ClusterMaps.SESSIONS);
                    stored = map.executeOnKey("q1", new CreateSession(r));
                } catch (SplitBrainProtectionException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
            assertEquals(r.incarnation(), stored.incarnation());
        } finally {
            if (second != null) {
                second.getLifecycleService().terminate();
            }
            first.getLifecycleService().terminate();
        }
    }
}
