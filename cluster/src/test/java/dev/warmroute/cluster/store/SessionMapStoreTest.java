package dev.warmroute.cluster.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.session.CommitResult;
import dev.warmroute.cluster.session.CommitTurn;
import dev.warmroute.cluster.session.CreateSession;
import dev.warmroute.cluster.session.DeleteSession;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.SessionSerializers;
import dev.warmroute.cluster.session.Turn;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The store behind the sessions map, on real Hazelcast members and real databases (H2 in a file; PostgreSQL where the
 * tests were given one): write-through commits, lazy loading into a member that never saw the session, idempotent
 * rewrites, and what a caller sees when the database is away or refuses a write.
 */
class SessionMapStoreTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private HazelcastInstance member(StoreSettings store) {
        SessionDatabase db = SessionDatabase.open(store);
        SessionMapStore mapStore = new SessionMapStore(db);
        HazelcastInstance hz = HazelcastFactory.startMember(HazelcastSettings.builder()
                .clusterName("store-" + UUID.randomUUID()).port(0).build(), Map.of(), SessionSerializers.all(),
                mapStore);
        open.add(db);
        open.add(() -> hz.getLifecycleService().terminate());
        return hz;
    }

    static SessionRecord newSession(String id) {
        return SessionStoreFixtures.newSession(id);
    }

    static Turn turn(int index, String requestId, String attemptId) {
        return new Turn(index, requestId, attemptId, "hello " + index + " é", new int[] {10 + index, 11, 12},
                "answer " + index, new int[] {20, 21 + index}, 1, "w1", 30 + index, 2000L + index);
    }

    private static CommitResult commit(IMap<String, SessionRecord> map, SessionRecord at, String requestId) {
        int index = (int) at.version();
        return map.executeOnKey(at.sessionId(), new CommitTurn(at.version(), 0, 3000L + index,
                turn(index, requestId, "att-" + requestId), at.incarnation()));
    }

    private static IMap<String, SessionRecord> sessions(HazelcastInstance hz) {
        return hz.getMap(ClusterMaps.SESSIONS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void committedTurnsAreLoadedByAMemberThatNeverSawThem(String kind) throws Exception {
        StoreSettings store = TestStores.of(kind, dir);
        HazelcastInstance first = member(store);
        IMap<String, SessionRecord> map = sessions(first);
        SessionRecord created = map.executeOnKey("s1", new CreateSession(newSession("s1")));
        SessionRecord at = created;
        for (int i = 0; i < 3; i++) {
            assertEquals(CommitResult.Outcome.COMMITTED, commit(map, at, "r" + i).outcome());
            at = map.get("s1");
        }
        SessionRecord before = map.get("s1");
        first.getLifecycleService().terminate(); // every copy in memory gone

        HazelcastInstance second = member(store);
        SessionRecord after = sessions(second).get("s1");
        assertEquals(3, after.version());
        assertEquals(before.incarnation(), after.incarnation());
        assertEquals(before.createDigest(), after.createDigest());
        assertEquals(before.settings(), after.settings());
        assertEquals(before.windowStart(), after.windowStart());
        for (int i = 0; i < 3; i++) {
            assertTrue(before.turns().get(i).sameAs(after.turns().get(i)), "turn " + i + " round-trips");
        }
        // The next turn continues the history: version = turns + 1.
        assertEquals(CommitResult.Outcome.COMMITTED, commit(sessions(second), after, "r3").outcome());
        assertEquals(4, sessions(second).get("s1").version());
        assertNull(sessions(second).get("never-created"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void writingTheSameRecordAgainChangesNothingAndUnacknowledgedTurnsAreReplaced(String kind) throws Exception {
        try (SessionDatabase db = SessionDatabase.open(TestStores.of(kind, dir))) {
            SessionRecord r = newSession("s2").withTurn(turn(0, "a", "att-a"), 0, 1L).withTurn(turn(1, "b", "att-b"),
                    0, 2L);
            try (Connection c = db.connection()) {
                assertEquals(2, SessionRows.store(c, r, 3).inserted());
                assertEquals(new SessionRows.Written(0, 0, false), SessionRows.store(c, r, 3));
                // Memory holds another turn 1 (the stored one was never acknowledged): it replaces the stored one.
                SessionRecord other = newSessionLike(r).withTurn(turn(0, "a", "att-a"), 0, 1L)
                        .withTurn(turn(1, "b", "att-b2"), 0, 3L);
                assertEquals(new SessionRows.Written(1, 1, false), SessionRows.store(c, other, 3));
                c.commit();
                SessionRecord loaded = SessionRows.load(c, "s2", 3);
                assertEquals("att-b2", loaded.turns().get(1).attemptId());
                assertEquals(2, rows(c, "s2"));
                c.rollback();
            }
        }
    }

    private static SessionRecord newSessionLike(SessionRecord r) {
        return new SessionRecord(r.sessionId(), r.owner(), r.modelId(), r.systemPrompt(), r.systemTokens(),
                r.tokenizerFingerprint(), r.settings(), List.of(), 0, 0, r.createTimeMs(), r.createTimeMs(),
                r.incarnation(), r.createDigest());
    }

    private static int rows(Connection c, String id) throws Exception {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM warmroute_turn WHERE session_id = '" + id + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void aDeletedSessionIsGoneFromTheStoreAndItsTurnsCannotCommitIntoANewOneOfTheSameId(String kind)
            throws Exception {
        StoreSettings store = TestStores.of(kind, dir);
        HazelcastInstance hz = member(store);
        IMap<String, SessionRecord> map = sessions(hz);
        SessionRecord old = map.executeOnKey("s3", new CreateSession(newSession("s3")));
        assertEquals(CommitResult.Outcome.COMMITTED, commit(map, old, "r0").outcome());
        assertTrue(map.executeOnKey("s3", new DeleteSession("alice")));
        SessionRecord again = map.executeOnKey("s3", new CreateSession(newSession("s3")));
        assertNotEquals(old.incarnation(), again.incarnation());
        // A turn computed on the first incarnation at version 0: the version matches, the incarnation does not.
        CommitResult aba = map.executeOnKey("s3", new CommitTurn(0, 0, 1L, turn(0, "late", "att-late"),
                old.incarnation()));
        assertEquals(CommitResult.Outcome.MISSING, aba.outcome());
        hz.getLifecycleService().terminate();
        SessionRecord loaded = sessions(member(store)).get("s3");
        assertEquals(0, loaded.version());
        assertEquals(again.incarnation(), loaded.incarnation());
    }

    @Test
    void aStoreThatIsAwayFailsTheCommitAsUnavailableAndKeepsNothingThenRecovers() throws Exception {
        H2StoreServer server = H2StoreServer.start(dir, 0);
        int port = server.port();
        SessionDatabase db = SessionDatabase.open(server.settings());
        SessionMapStore mapStore = new SessionMapStore(db);
        HazelcastInstance hz = HazelcastFactory.startMember(HazelcastSettings.builder()
                .clusterName("store-" + UUID.randomUUID()).port(0).build(), Map.of(), SessionSerializers.all(),
                mapStore);
        open.add(db);
        open.add(() -> hz.getLifecycleService().terminate());
        IMap<String, SessionRecord> map = sessions(hz);
        SessionRecord created = map.executeOnKey("s4", new CreateSession(newSession("s4")));

        server.close();
        RuntimeException e = assertThrows(RuntimeException.class, () -> commit(map, created, "r0"));
        assertEquals(StoreErrors.Kind.TRANSIENT, StoreErrors.kind(e), () -> "classified as transient: " + e);
        assertTrue(StoreErrors.message(e).contains("H2 store"), StoreErrors.message(e));
        assertEquals(false, mapStore.health().up());
        assertEquals(0, map.get("s4").version(), "nothing kept in memory that the store does not have");

        H2StoreServer back = H2StoreServer.start(dir, port);
        open.add(back);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!mapStore.health().up() && System.nanoTime() < deadline) {
            Thread.sleep(50); // the probe (every second) notices the store's return
        }
        assertTrue(mapStore.health().up(), "the probe saw the store come back");
        assertEquals(CommitResult.Outcome.COMMITTED, commit(map, created, "r0").outcome());
    }

    @Test
    void aWriteTheDatabaseRefusesIsADeterministicFailure() throws Exception {
        HazelcastInstance hz = member(TestStores.h2(dir));
        String tooLong = "x".repeat(200); // the session id column holds 128
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> sessions(hz).executeOnKey(tooLong, new CreateSession(newSession(tooLong))));
        assertEquals(StoreErrors.Kind.DETERMINISTIC, StoreErrors.kind(e), () -> "classified as deterministic: " + e);
        assertTrue(StoreErrors.message(e).contains("error "), StoreErrors.message(e));
        assertNull(sessions(hz).get(tooLong));
    }
}
