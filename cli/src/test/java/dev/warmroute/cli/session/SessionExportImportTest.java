package dev.warmroute.cli.session;

import dev.warmroute.testing.TestModel;
import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cli.CliRun;
import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.cli.chat.ChatClient;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.cluster.store.StoreSettings;
import dev.warmroute.worker.WorkerConfig;
import dev.warmroute.worker.WorkerServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session exported to a file and imported again under a new id, on a real worker (Hazelcast member with an H2
 * store, real gRPC): the same messages, and the next turn continues it exactly as it continues the original. A file of
 * another model is refused, naming the model.
 */
class SessionExportImportTest {

    @Test
    void aSessionRoundTripsThroughAFileAndTheImportedOneContinuesLikeTheOriginal(@TempDir Path dir)
            throws Exception {
        Path model = TestModel.path();
        String cluster = "session-" + UUID.randomUUID().toString().substring(0, 8);
        WorkerServer worker = WorkerServer.start(WorkerConfig.builder().port(0).model(model).engineThreads(1)
                .kvCacheMb(16).hazelcast(HazelcastSettings.builder().clusterName(cluster).port(0).build())
                .store(StoreSettings.embeddedH2(dir.resolve("data"))).build());
        try (ChatClient client = new ChatClient(worker.address(), "alice")) {
            SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0).setMaxTokens(8).build();
            client.ensureSession("orig", "You tell stories.", SessionSettings.newBuilder().setSampling(sampling)
                    .build(), Duration.ofSeconds(30));
            for (String m : List.of("Once upon a time", "What did the cat do?")) {
                client.send(ChatClient.message("orig", "r-" + m.length(), m, sampling), d -> { },
                        Duration.ofSeconds(60));
            }
            String members = worker.hazelcastAddress();
            Path file = dir.resolve("orig.json");
            Result export = run("session", "export", "orig", "--members", members, "--cluster-name", cluster,
                    "--out", file.toString());
            assertEquals(0, export.code(), export.err());
            String json = Files.readString(file);
            assertTrue(json.contains("\"format\": \"warmroute.session.v1\"") && json.contains("\"assistant_tokens\""),
                    json);

            Result imported = run("session", "import", file.toString(), "--as", "copy", "--members", members,
                    "--cluster-name", cluster, "--model", model.toString());
            assertEquals(0, imported.code(), imported.err());
            assertTrue(imported.out().contains("next turn is version 3"), imported.out());

            Session a = client.session("orig", true, Duration.ofSeconds(10));
            Session b = client.session("copy", true, Duration.ofSeconds(10));
            assertEquals(texts(a), texts(b));
            assertEquals(a.getSettings(), b.getSettings());
            TurnComplete nextA = client.send(ChatClient.message("orig", "r-next", "And then?", sampling), d -> { },
                    Duration.ofSeconds(60)).complete();
            TurnComplete nextB = client.send(ChatClient.message("copy", "r-next", "And then?", sampling), d -> { },
                    Duration.ofSeconds(60)).complete();
            assertEquals(3, nextB.getVersion());
            assertEquals(nextA.getText(), nextB.getText(), "the imported history prompts the same answer");

            Result taken = run("session", "import", file.toString(), "--as", "copy", "--members", members,
                    "--cluster-name", cluster);
            assertEquals(1, taken.code());
            assertTrue(taken.err().contains("'copy' is taken"), taken.err());

            Path other = dir.resolve("other.json");
            Files.writeString(other, json.replace("\"model_id\": \"" + a.getModelId() + "\"",
                    "\"model_id\": \"some-other-model\""));
            Result refused = run("session", "import", other.toString(), "--as", "copy2", "--members", members,
                    "--cluster-name", cluster);
            assertEquals(1, refused.code());
            assertTrue(refused.err().contains("made with model some-other-model"), refused.err());
        } finally {
            worker.close();
        }
    }

    private static List<String> texts(Session s) {
        return s.getMessagesList().stream().map(m -> m.getRole() + ":" + m.getContent()).toList();
    }
}
