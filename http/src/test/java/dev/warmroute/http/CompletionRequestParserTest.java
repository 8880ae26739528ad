package dev.warmroute.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CompletionRequestParserTest {

    private final CompletionRequestParser parser = new CompletionRequestParser(new ObjectMapper());

    private CompletionRequest parse(String json) {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private OpenAiError refused(String json) {
        return assertThrows(OpenAiError.class, () -> parse(json));
    }

    private static String body(String extra) {
        return "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]" + extra + "}";
    }

    @Test
    void mapsSamplingFieldsAndLeavesUnsetOnesToTheSession() {
        CompletionRequest r = parse(body(",\"temperature\":0.5,\"top_p\":0.9,\"max_completion_tokens\":12,"
                + "\"seed\":-3,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"user\":\"s1\""));
        assertEquals(0.5f, r.temperature());
        assertEquals(0.9f, r.topP());
        assertEquals(12, r.maxTokens());
        assertEquals(-3L, r.seed());
        assertTrue(r.stream() && r.includeUsage());
        assertEquals("s1", r.user());
        CompletionRequest plain = parse(body(""));
        assertNull(plain.temperature());
        assertNull(plain.maxTokens());
        assertFalse(plain.stream());
    }

    @Test
    void namesTheFieldAndTheLimitOfEveryValueOutOfRange() {
        assertEquals("temperature: must be in [0, 2], got 2.5", refused(body(",\"temperature\":2.5")).getMessage());
        assertEquals("top_p: must be in (0, 1], got 0", refused(body(",\"top_p\":0")).getMessage());
        assertEquals("max_tokens: must be an integer in [1, 4096], got 0", refused(body(",\"max_tokens\":0"))
                .getMessage());
        assertEquals("max_completion_tokens", refused(body(",\"max_completion_tokens\":5000")).param());
        assertEquals("seed", refused(body(",\"seed\":1.5")).param());
        assertEquals("stream_options: only allowed when stream is true",
                refused(body(",\"stream_options\":{\"include_usage\":true}")).getMessage());
        assertEquals("max_tokens", refused(body(",\"max_tokens\":3,\"max_completion_tokens\":4")).param());
    }

    @Test
    void refusesWhatItCannotDoInsteadOfIgnoringIt() {
        OpenAiError stop = refused(body(",\"stop\":[\"\\n\"]"));
        assertEquals("stop", stop.param());
        assertEquals("unsupported_parameter", stop.code());
        assertTrue(stop.getMessage().startsWith("stop: stop sequences are not supported"), stop.getMessage());
        assertEquals("n", refused(body(",\"n\":2")).param());
        assertEquals("tools", refused(body(",\"tools\":[{\"type\":\"function\"}]")).param());
        OpenAiError unknown = refused(body(",\"temprature\":1"));
        assertEquals("unknown_parameter", unknown.code());
        assertEquals(400, unknown.httpStatus());
    }

    @Test
    void acceptsTheOffValuesClientsSendByDefault() {
        CompletionRequest r = parse(body(",\"n\":1,\"presence_penalty\":0,\"frequency_penalty\":0,\"stop\":null,"
                + "\"logprobs\":false,\"tools\":[],\"response_format\":{\"type\":\"text\"},\"parallel_tool_calls\":true"));
        assertEquals("Hi", r.last().content());
    }

    @Test
    void readsTheConversationSystemFirstUserLastTurnsAlternating() {
        CompletionRequest r = parse("{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"A\"},{\"type\":\"text\",\"text\":\"B\"}]},"
                + "{\"role\":\"assistant\",\"content\":\"C\"},{\"role\":\"user\",\"content\":\"D\"}]}");
        assertEquals("Be brief.", r.system().content());
        assertEquals(2, r.earlier().size());
        assertEquals("AB", r.earlier().getFirst().content());
        assertEquals("D", r.last().content());
        assertEquals("messages[0]", refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"role\":\"user\",\"content\":\"b\"}]}").param());
        assertEquals("messages[0].role", refused("{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\","
                + "\"content\":\"a\"}]}").param());
        assertEquals("messages[1].role", refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"role\":\"tool\",\"content\":\"b\"}]}").param());
        assertEquals("messages[0].content[0]", refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"image_url\",\"image_url\":{}}]}]}").param());
    }

    @Test
    void namesTheLimitsOfContentAndSessionIds() {
        String big = "x".repeat(32769);
        assertEquals("messages[0].content: 32769 bytes exceeds the limit of 32768 bytes",
                refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + big + "\"}]}").getMessage());
        assertEquals("user", refused(body(",\"user\":\"a b\"")).param());
        assertEquals("model", refused("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").param());
        assertEquals("invalid_json", refused("{\"model\":").code());
    }
}
