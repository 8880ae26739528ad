package dev.warmroute.cluster.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The commit entry processor and the records' serializers on two real members (so values cross the wire). */
class CommitTurnTest {

    private static HazelcastInstance a;
    private static HazelcastInstance b;

    @BeforeAll
    static void start() {
        String cluster = "commit-" + UUID.randomUUID().toString().substring(0, 8);
        HazelcastSettings first = HazelcastSettings.builder().clusterName(cluster).port(0).build();
        a = HazelcastFactory.startMember(first, Map.of(), SessionSerializers.all());
        String seed = "127.0.0.1:" + a.getCluster().getLocalMember().getAddress().getPort();
        b = HazelcastFactory.startMember(first.toBuilder().members(List.of(seed)).build(), Map.of(),
                SessionSerializers.all());
    }

    @AfterAll
    static void stop() {
        b.getLifecycleService().terminate();
        a.getLifecycleService().terminate();
    }

    private static SessionRecord newSession(String id, String owner) {
        return SessionRecord.create(id, owner, "model-1", "be brief", new int[] {1, 2, 3}, "fp-1",
                new StoredSettings(512, 1, 75, 0.8f, 0.95f, 42L, 256), 1000L);
    }

    private static Turn turn(int index, String requestId, String attempt) {
        return new Turn(index, requestId, attempt, "hello " + index, new int[] {10, 11 + index}, "answer " + index,
                new int[] {20, 21, 22 + index}, 1, "worker-a", 30 + index, 2000L + index);
    }

    private static IMap<String, SessionRecord> sessions(HazelcastInstance hz) {
        return hz.getMap(ClusterMaps.SESSIONS);
    }

    @Test
    void appendsOnlyOnTheExpectedVersionAndIsIdempotentPerRequestId() {
        String id = "s-" + UUID.randomUUID();
        sessions(a).put(id, newSession(id, "alice"));

        CommitResult first = sessions(b).executeOnKey(id, new CommitTurn(0, 0, 2000L, turn(0, "r0", "att-0")));
        assertEquals(CommitResult.Outcome.COMMITTED, first.outcome());
        assertEquals(1, first.version());

        // Hazelcast re-running the same processor (or a client retry) finds the stored turn: nothing appended twice.
        CommitResult again = sessions(a).executeOnKey(id, new CommitTurn(0, 0, 2000L, turn(0, "r0", "att-0")));
        assertEquals(CommitResult.Outcome.ALREADY_COMMITTED, again.outcome());
        assertEquals("att-0", again.turn().attemptId());
        assertTrue(again.turn().sameAs(turn(0, "r0", "att-0")));

        // Another turn built on the old version lost the race.
        CommitResult stale = sessions(a).executeOnKey(id, new CommitTurn(0, 0, 2001L, turn(0, "r-other", "att-x")));
        assertEquals(CommitResult.Outcome.VERSION_CONFLICT, stale.outcome());
        assertEquals(1, stale.version());

        CommitResult second = sessions(b).executeOnKey(id, new CommitTurn(1, 1, 3000L, turn(1, "r1", "att-1")));
        assertEquals(CommitResult.Outcome.COMMITTED, second.outcome());

        SessionRecord stored = sessions(a).get(id);
        assertEquals(2, stored.version());
        assertEquals(2, stored.turns().size());
        assertEquals(1, stored.windowStart());
        assertEquals(3000L, stored.updateTimeMs());
        assertArrayEquals(new int[] {20, 21, 23}, stored.turns().get(1).assistantTokens());
        assertArrayEquals(new int[] {1, 2, 3}, stored.systemTokens());
        assertEquals(new StoredSettings(512, 1, 75, 0.8f, 0.95f, 42L, 256), stored.settings());
    }

    @Test
    void everyStoredTypeUsesCompactNotJavaSerialization() {
        var serialization = ((com.hazelcast.spi.impl.SerializationServiceSupport) a).getSerializationService();
        Object[] values = {newSession("x", "o"), turn(0, "r", "a"), new CommitTurn(0, 0, 1L, turn(0, "r", "a")),
                new CommitResult(CommitResult.Outcome.COMMITTED, 1, null), new DeleteSession("o")};
        for (Object v : values) {
            var data = serialization.toData(v);
            assertEquals(com.hazelcast.internal.serialization.impl.SerializationConstants.TYPE_COMPACT,
                    data.getType(), v.getClass().getSimpleName());
            assertNotNull(serialization.toObject(data));
        }
    }

    @Test
    void reportsAMissingSessionWithoutCreatingIt() {
        String id = "missing-" + UUID.randomUUID();
        CommitResult r = sessions(a).executeOnKey(id, new CommitTurn(0, 0, 1L, turn(0, "r0", "att")));
        assertEquals(CommitResult.Outcome.MISSING, r.outcome());
        assertNull(sessions(b).get(id));
    }

    @Test
    void deletesOnlyTheOwnersSession() {
        String id = "del-" + UUID.randomUUID();
        sessions(a).put(id, newSession(id, "alice"));
        assertFalse(sessions(b).executeOnKey(id, new DeleteSession("mallory")));
        assertNotNull(sessions(a).get(id));
        assertTrue(sessions(b).executeOnKey(id, new DeleteSession("alice")));
        assertNull(sessions(a).get(id));
        assertFalse(sessions(b).executeOnKey(id, new DeleteSession("alice")));
    }

    @Test
    void findsSessionsByOwnerThroughTheIndex() {
        String owner = "owner-" + UUID.randomUUID();
        for (int i = 0; i < 3; i++) {
            sessions(a).put(owner + "-" + i, newSession(owner + "-" + i, owner));
        }
        sessions(a).put("someone-else-" + owner, newSession("someone-else-" + owner, "bob"));
        assertEquals(3, sessions(b).values(Predicates.equal("owner", owner)).size());
    }
}
