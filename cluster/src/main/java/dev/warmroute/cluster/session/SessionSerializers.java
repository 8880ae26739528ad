package dev.warmroute.cluster.session;

import com.hazelcast.nio.serialization.compact.CompactSerializer;
import java.util.List;

/**
 * The Compact serializers of everything stored in or sent to the {@code sessions} map. Every member and client that
 * touches the map registers them (workers do through {@code HazelcastFactory}); a standalone Hazelcast member needs
 * this module's jar on its classpath, since the entry processors run there.
 */
public final class SessionSerializers {

    private SessionSerializers() {}

    public static List<CompactSerializer<?>> all() {
        return List.of(new SessionRecord.Serializer(), new Turn.Serializer(), new StoredSettings.Serializer(),
                new CommitTurn.Serializer(), new CommitResult.Serializer(), new DeleteSession.Serializer(),
                new CreateSession.Serializer());
    }
}
