package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.CreateSessionRequest;
import dev.warmroute.api.v1.ListSessionsRequest;
import dev.warmroute.api.v1.ListSessionsResponse;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.cluster.store.StoreSettings;
import dev.warmroute.testing.ChatClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ListSessions with the H2 store behind the map: pages come from a keyset query on the store (most recent first,
 * then by id) and only their records are read; every session appears once, another owner's never. The same paging
 * without a store is {@link SessionsTest}'s.
 */
class StoredListPagesTest {

    @TempDir
    Path dir;

    private InProcessCluster<WorkerServer> cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void pagesOfAStoredOwnerAreMostRecentFirstAndComplete() throws Exception {
        cluster = TestWorkers.cluster();
        WorkerServer worker = TestWorkers.add(cluster, b -> b.store(StoreSettings.embeddedH2(dir.resolve("data"))));
        try (ChatClient dora = new ChatClient(worker.address(), SessionsTest.owner("dora"));
                ChatClient eve = new ChatClient(worker.address(), SessionsTest.owner("eve"))) {
            for (int i = 0; i < 7; i++) {
                dora.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("page-" + i).build());
            }
            eve.blocking().createSession(CreateSessionRequest.newBuilder().setSessionId("page-eve").build());
            dora.create("page-x", "", ChatClient.greedy(4));
            dora.ok(ChatClient.message("page-x", "x", "Hello."));

            List<String> seen = new ArrayList<>();
            List<Integer> sizes = new ArrayList<>();
            String token = "";
            do {
                ListSessionsResponse page = dora.blocking().listSessions(ListSessionsRequest.newBuilder()
                        .setPageSize(3).setPageToken(token).build());
                sizes.add(page.getSessionsCount());
                page.getSessionsList().forEach(s -> seen.add(s.getSessionId()));
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            assertEquals(List.of(3, 3, 2), sizes);
            assertEquals(8, seen.stream().distinct().count(), seen.toString());
            assertEquals("page-x", seen.get(0), "most recently updated first");
            assertTrue(seen.stream().noneMatch(id -> id.equals("page-eve")), "only dora's sessions");
        }
    }
}
