package dev.warmroute.worker;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.session.CommitResult;
import dev.warmroute.cluster.session.CommitTurn;
import dev.warmroute.cluster.session.CreateSession;
import dev.warmroute.cluster.session.DeleteSession;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.store.SessionMapStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Session history in the {@code sessions} IMap. Every call has a deadline: Hazelcast retries internally while a
 * member is lost and surfaces trouble as a call that blocks, so each call goes through the async API and gives up
 * after {@code timeout} with UNAVAILABLE (safe to retry: writes are idempotent per request id).
 *
 * <p>Failures are classified ({@link StoreFailures}): the database behind the map away, a commit whose backup never
 * answered, a minority side of a split brain, a member lost mid-call are UNAVAILABLE (retry); a store that refused a
 * write, or any other failure, is INTERNAL with an error id (a bug: retrying would only spread it).
 */
public final class SessionStore implements AutoCloseable {

    /** Most recently updated first, then by id (a total order, so pages never overlap). */
    public static final Comparator<SessionRecord> RECENT_FIRST =
            Comparator.comparingLong(SessionRecord::updateTimeMs).reversed().thenComparing(SessionRecord::sessionId);

    private final HazelcastInstance hz;
    private final Duration timeout;
    /** The database behind the map when this worker is a member with a store: lists sessions not in memory. */
    private final SessionMapStore backing;
    /** Queries have no async form; they run here so a caller can still stop waiting. */
    private final ExecutorService queries;

    public SessionStore(HazelcastInstance hz, Duration timeout) {
        this(hz, timeout, null);
    }

    /** @param backing the map's store on this member (null: none, or a client of the cluster) */
    public SessionStore(HazelcastInstance hz, Duration timeout, SessionMapStore backing) {
        this.hz = hz;
        this.timeout = timeout;
        this.backing = backing;
        this.queries = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "session-store-query");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The map's proxy, obtained per call: creating it is an operation on the map (with a store, it starts the map's
     * loader), which a member refuses until the cluster has a quorum; once created, Hazelcast hands out the same one.
     */
    private IMap<String, SessionRecord> map() {
        return hz.getMap(ClusterMaps.SESSIONS);
    }

    /** The record, or null when the session does not exist. */
    public SessionRecord get(String sessionId) {
        return await(() -> map().getAsync(sessionId), "read of session " + sessionId);
    }

    /** Result of {@link #create}: the stored record and whether this call created it. */
    public record Created(SessionRecord record, boolean created) {}

    /**
     * Stores a new session unless the id is taken. With {@code allowExisting}, an existing session of the same owner
     * is returned unchanged; any other existing session is ALREADY_EXISTS, with the same words for the caller's own
     * and another owner's (session ids are one space for everyone, so that an id is in use cannot be hidden).
     */
    public Created create(SessionRecord record, boolean allowExisting) {
        CreateSession create = new CreateSession(record);
        SessionRecord previous = await(() -> map().submitToKey(record.sessionId(), create),
                "create of session " + record.sessionId());
        if (create.isOwn(previous)) {
            // This request's record, or the one an earlier attempt of the same request stored (a retry).
            return new Created(previous, true);
        }
        if (allowExisting && previous.owner().equals(record.owner())) {
            return new Created(previous, false);
        }
        // One message whoever holds the id: saying "another owner" would tell a caller whose session an id is.
        throw Errors.alreadyExists("session_id: '" + record.sessionId() + "' is in use; choose another id (or, for a"
                + " session of yours, set allow_existing to reuse it)");
    }

    /** Deletes the owner's session; false when there is none (or it belongs to someone else). */
    public boolean delete(String sessionId, String owner) {
        return await(() -> map().submitToKey(sessionId, new DeleteSession(owner)), "delete of session " + sessionId);
    }

    /**
     * Every session of an owner, most recently updated first. With a store, the ids come from the store's owner index
     * (sessions are loaded lazily: after a restart, or once idle ones expired from memory, the map holds only some) and
     * the records from the map, which loads the missing ones.
     */
    public List<SessionRecord> listByOwner(String owner) {
        List<SessionRecord> all = new ArrayList<>(await(() -> CompletableFuture.supplyAsync(() -> {
            if (backing == null) {
                return map().values(Predicates.equal("owner", owner));
            }
            java.util.Set<String> ids = new java.util.HashSet<>(backing.idsByOwner(owner, MAX_LISTED));
            return map().getAll(ids).values().stream().filter(r -> r.owner().equals(owner)).toList();
        }, queries), "query of the sessions of " + owner));
        all.sort(RECENT_FIRST);
        return all;
    }

    /** Sessions of one owner that ListSessions reads from the store at most. */
    static final int MAX_LISTED = 10_000;

    /** Runs the commit entry processor on the partition owner (see {@link CommitTurn}). */
    public CommitResult commit(String sessionId, CommitTurn processor) {
        return await(() -> map().submitToKey(sessionId, processor), "commit of turn " + processor.turn().index()
                + " of session " + sessionId);
    }

    private <T> T await(java.util.function.Supplier<CompletionStage<T>> call, String what) {
        CompletionStage<T> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            throw StoreFailures.status(what, e);
        }
        try {
            return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw Status.UNAVAILABLE.withDescription(dev.warmroute.cluster.store.StoreErrors.STATUS_PREFIX + what + " did not complete within "
                    + timeout.toMillis() + " ms (cluster busy or a member lost); retry with the same request_id")
                    .asRuntimeException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted during " + what).asRuntimeException();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof StatusRuntimeException sre) {
                throw sre;
            }
            throw StoreFailures.status(what, cause);
        }
    }

    @Override
    public void close() {
        queries.shutdownNow();
    }
}
