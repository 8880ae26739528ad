package dev.warmroute.cluster.store;

import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.StoredSettings;

/** Records the store tests share. */
final class SessionStoreFixtures {

    private SessionStoreFixtures() {}

    static SessionRecord newSession(String id) {
        return SessionRecord.create(id, "alice", "model-1", "be brief", new int[] {1, 2, 3}, "fp-1",
                new StoredSettings(512, 2, 75, 0.7f, 0.9f, 42L, 64), 1000L, "digest-1");
    }
}
