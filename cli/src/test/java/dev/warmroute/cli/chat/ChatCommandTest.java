package dev.warmroute.cli.chat;

import static dev.warmroute.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warmroute.api.v1.Session;
import dev.warmroute.cli.CliRun.Result;
import dev.warmroute.cluster.HazelcastSettings;
import dev.warmroute.testing.ChatClient;
import dev.warmroute.testing.TestModel;
import dev.warmroute.worker.WorkerConfig;
import dev.warmroute.worker.WorkerServer;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code warmroute chat} against a real worker on 127.0.0.1 (port 0) on the tests' model ({@link TestModel}). */
class ChatCommandTest {

    private static WorkerServer worker;

    @BeforeAll
    static void start() throws Exception {
        Path model = TestModel.path();
        worker = WorkerServer.start(WorkerConfig.builder().port(0).model(model).engineThreads(1).kvCacheMb(8)
                .hazelcast(HazelcastSettings.builder().clusterName("chat-" + UUID.randomUUID().toString()
                        .substring(0, 8)).port(0).build()).build());
    }

    @AfterAll
    static void stop() {
        if (worker != null) {
            worker.close();
        }
    }

    @Test
    void createsTheSessionStreamsTheAnswerAndReportsWarmTurnsInJson() {
        Result first = run("chat", "--target", worker.address(), "--session", "cli-1", "--message", "Hello.",
                "--max-tokens", "8", "--temperature", "0");
        assertEquals(0, first.code(), first.err());
        // The answer is printed as streamed: exactly the stored answer and a newline (on the synthetic model an
        // answer may be all blanks, so the check compares with the answer instead of looking for non-blank text).
        try (ChatClient client = new ChatClient(worker.address())) {
            Session stored = client.get("cli-1");
            assertEquals(2, stored.getMessagesCount());
            assertEquals(stored.getMessages(1).getContent() + System.lineSeparator(), first.out(), "the answer is printed");
        }

        Result second = run("chat", "--target", worker.address(), "--session", "cli-1", "--message", "And then?",
                "--max-tokens", "8", "--temperature", "0", "--request-id", "second", "--json");
        assertEquals(0, second.code(), second.err());
        String json = second.out().strip();
        for (String field : List.of("\"session\":\"cli-1\"", "\"cache\":\"warm\"", "\"version\":2",
                "\"request_id\":\"second\"", "\"generated_tokens\":8", "\"worker\":\"" + worker.workerId() + "\"",
                "\"fallback\":false", "\"reused_tokens\":", "\"computed_tokens\":", "\"ttft_ms\":", "\"text\":")) {
            assertTrue(json.contains(field), field + " missing in " + json);
        }

        Result replay = run("chat", "--target", worker.address(), "--session", "cli-1", "--message", "And then?",
                "--request-id", "second", "--json");
        assertTrue(replay.out().contains("\"cache\":\"replay\"") && replay.out().contains("\"replayed\":true"),
                replay.out());
    }

    @Test
    void aFailedTurnPrintsTheStatusAndExitsNonZero() {
        Result r = run("chat", "--target", worker.address(), "--session", "cli-2", "--message", "x".repeat(40_000));
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("INVALID_ARGUMENT: message.content: 40000 bytes exceeds the limit of 32768"),
                r.err());
    }
}
