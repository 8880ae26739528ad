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
 */
public final class SessionStore implements AutoCloseable {

    /** Most recently updated first, then by id (a total order, so pages never overlap). */
    public static final Comparator<SessionRecord> RECENT_FIRST =
            Comparator.comparingLong(SessionRecord::updateTimeMs).reversed().thenComparing(SessionRecord::sessionId);

    private final IMap<String, SessionRecord> map;
    private final Duration timeout;
    /** Queries have no async form; they run here so a caller can still stop waiting. */
    private final ExecutorService queries;

    public SessionStore(HazelcastInstance hz, Duration timeout) {
        this.map = hz.getMap(ClusterMaps.SESSIONS);
        this.timeout = timeout;
        this.queries = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "session-store-query");
            t.setDaemon(true);
            return t;
        });
    }

    /** The record, or null when the session does not exist. */
    public SessionRecord get(String sessionId) {
        return await(map.getAsync(sessionId), "read of session " + sessionId);
    }

    /** Result of {@link #create}: the stored record and whether this call created it. */
    public record Created(SessionRecord record, boolean created) {}

    /**
     * Stores a new session unless the id is taken. With {@code allowExisting}, an existing session of the same owner
     * is returned unchanged; any other existing session is ALREADY_EXISTS.
     */
    public Created create(SessionRecord record, boolean allowExisting) {
        CreateSession create = new CreateSession(record);
        SessionRecord previous = await(map.submitToKey(record.sessionId(), create),
                "create of session " + record.sessionId());
        if (create.isOwn(previous)) {
            return new Created(record, true);
        }
        if (allowExisting && previous.owner().equals(record.owner())) {
            return new Created(previous, false);
        }
        throw Errors.alreadyExists("session_id: '" + record.sessionId() + "' is taken"
                + (allowExisting ? " by another owner" : "; set allow_existing to reuse your own session"));
    }

    /** Deletes the owner's session; false when there is none (or it belongs to someone else). */
    public boolean delete(String sessionId, String owner) {
        return await(map.submitToKey(sessionId, new DeleteSession(owner)), "delete of session " + sessionId);
    }

    /** Every session of an owner, most recently updated first. */
    public List<SessionRecord> listByOwner(String owner) {
        CompletableFuture<Collection<SessionRecord>> query =
                CompletableFuture.supplyAsync(() -> map.values(Predicates.equal("owner", owner)), queries);
        List<SessionRecord> all = new ArrayList<>(await(query, "query of the sessions of " + owner));
        all.sort(RECENT_FIRST);
        return all;
    }

    /** Runs the commit entry processor on the partition owner (see {@link CommitTurn}). */
    public CommitResult commit(String sessionId, CommitTurn processor) {
        return await(map.submitToKey(sessionId, processor), "commit of turn " + processor.turn().index()
                + " of session " + sessionId);
    }

    private <T> T await(CompletionStage<T> stage, String what) {
        try {
            return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw Status.UNAVAILABLE.withDescription("history store: " + what + " did not complete within "
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
            throw Status.UNAVAILABLE.withDescription("history store: " + what + " failed: " + cause)
                    .withCause(cause).asRuntimeException();
        }
    }

    @Override
    public void close() {
        queries.shutdownNow();
    }
}
