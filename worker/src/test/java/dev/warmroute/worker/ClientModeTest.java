package dev.warmroute.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.cluster.ClusterMaps;
import dev.warmroute.cluster.HazelcastFactory;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.WorkerRegistration;
import dev.warmroute.cluster.launch.InProcessCluster;
import dev.warmroute.cluster.session.SessionSerializers;
import dev.warmroute.testing.ChatClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A worker that joins an external Hazelcast cluster as a client (--hazelcast-mode client): the data and the entry
 * processors live on the standalone member, which has the warmroute-cluster classes and serializers.
 */
class ClientModeTest {

    @Test
    void aClientModeWorkerServesTurnsFromAStandaloneCluster() throws Exception {
        String cluster = InProcessCluster.freshName("test");
        List<CompactSerializer<?>> serializers = new ArrayList<>(SessionSerializers.all());
        serializers.add(new WorkerRegistration.Serializer());
        HazelcastInstance member = HazelcastFactory.startMember(HazelcastSettings.builder().clusterName(cluster)
                .port(0).build(), Map.of(), serializers);
        try {
            String address = "127.0.0.1:" + member.getCluster().getLocalMember().getAddress().getPort();
            HazelcastSettings client = HazelcastSettings.builder().clusterName(cluster).members(List.of(address))
                    .mode(HazelcastSettings.Mode.CLIENT).build();
            try (WorkerServer w = WorkerServer.start(TestWorkers.config(cluster, List.of(), b -> b.hazelcast(client)));
                 ChatClient c = new ChatClient(w.address())) {
                assertEquals("", w.hazelcastAddress(), "a client has no member address");
                assertEquals(1, member.getCluster().getMembers().size(), "the worker did not become a member");
                WorkerRegistration r = (WorkerRegistration) member.getMap(ClusterMaps.WORKERS).get(w.workerId());
                assertEquals("", r.memberUuid());
                c.create("client-mode", "", ChatClient.greedy(8));
                c.ok(ChatClient.message("client-mode", "t0", "Hello."));
                ChatClient.Reply t = c.ok(ChatClient.message("client-mode", "t1", "And then?"));
                assertEquals(CacheStatus.CACHE_STATUS_WARM, t.complete().getCache().getStatus());
                assertTrue(member.getMap(ClusterMaps.SESSIONS).containsKey("client-mode"));
            }
        } finally {
            member.shutdown();
        }
    }
}
