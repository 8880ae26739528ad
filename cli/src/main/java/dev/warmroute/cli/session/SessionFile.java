package dev.warmroute.cli.session;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.StoredSettings;
import dev.warmroute.cluster.session.Turn;
import java.util.ArrayList;
import java.util.List;

/**
 * A session as a file, for people (the seed's save()/load()): everything a cluster needs to go on with it, as JSON.
 *
 * <pre>
 * {
 *   "format": "warmroute.session.v1",
 *   "session_id": "s1", "owner": "alice", "model_id": "stories260k-f32-741e0ae2",
 *   "tokenizer_fingerprint": "...",          // of the tokenizer every token list below was made with
 *   "system_prompt": "...", "system_tokens": [1, 2],
 *   "settings": {"context_budget_tokens": 512, "pruning_policy": 2, "low_watermark_percent": 75,
 *                "temperature": 0.0, "top_p": 1.0, "seed": 7, "max_tokens": 64},
 *   "window_start": 0,                        // first turn inside the prompt window
 *   "create_time_ms": 0, "update_time_ms": 0,
 *   "turns": [{"index": 0, "request_id": "r0", "user_text": "...", "user_tokens": [..],
 *              "assistant_text": "...", "assistant_tokens": [..], "finish_reason": 1, "worker_id": "w1",
 *              "prompt_tokens": 31, "create_time_ms": 0}]
 * }
 * </pre>
 * Token ids are the model's vocabulary ids (the answer without its stop token). The version is the number of turns.
 */
record SessionFile(String format, String session_id, String owner, String model_id, String tokenizer_fingerprint,
        String system_prompt, int[] system_tokens, Settings settings, int window_start, long create_time_ms,
        long update_time_ms, List<TurnEntry> turns) {

    static final String FORMAT = "warmroute.session.v1";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    record Settings(int context_budget_tokens, int pruning_policy, int low_watermark_percent, float temperature,
            float top_p, long seed, int max_tokens) {}

    record TurnEntry(int index, String request_id, String user_text, int[] user_tokens, String assistant_text,
            int[] assistant_tokens, int finish_reason, String worker_id, int prompt_tokens, long create_time_ms) {}

    static SessionFile of(SessionRecord r) {
        StoredSettings s = r.settings();
        List<TurnEntry> turns = new ArrayList<>();
        for (Turn t : r.turns()) {
            turns.add(new TurnEntry(t.index(), t.requestId(), t.userText(), t.userTokens(), t.assistantText(),
                    t.assistantTokens(), t.finishReason(), t.workerId(), t.promptTokens(), t.createTimeMs()));
        }
        return new SessionFile(FORMAT, r.sessionId(), r.owner(), r.modelId(), r.tokenizerFingerprint(),
                r.systemPrompt(), r.systemTokens(), new Settings(s.contextBudgetTokens(), s.pruningPolicy(),
                        s.lowWatermarkPercent(), s.temperature(), s.topP(), s.seed(), s.maxTokens()),
                r.windowStart(), r.createTimeMs(), r.updateTimeMs(), turns);
    }

    String toJson() {
        return GSON.toJson(this) + "\n";
    }

    /** Parses and checks a file; IllegalArgumentException naming the field that is wrong. */
    static SessionFile parse(String json) {
        SessionFile f;
        try {
            f = GSON.fromJson(json, SessionFile.class);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("not a session file (JSON): " + e.getMessage());
        }
        if (f == null || !FORMAT.equals(f.format)) {
            throw new IllegalArgumentException("format: expected \"" + FORMAT + "\", got "
                    + (f == null ? "an empty file" : "\"" + f.format + "\""));
        }
        require(f.session_id != null && !f.session_id.isBlank(), "session_id: required");
        require(f.owner != null && !f.owner.isBlank(), "owner: required");
        require(f.model_id != null, "model_id: required");
        require(f.tokenizer_fingerprint != null, "tokenizer_fingerprint: required");
        require(f.settings != null, "settings: required");
        require(f.turns != null, "turns: required (may be empty)");
        for (int i = 0; i < f.turns.size(); i++) {
            TurnEntry t = f.turns.get(i);
            require(t != null && t.index == i, "turns[" + i + "].index: must be " + i);
            require(t.user_text != null && t.assistant_text != null && t.user_tokens != null
                    && t.assistant_tokens != null && t.request_id != null,
                    "turns[" + i + "]: request_id, user_text, user_tokens, assistant_text, assistant_tokens required");
        }
        require(f.window_start >= 0 && f.window_start <= f.turns.size(), "window_start: must be in [0, "
                + f.turns.size() + "], got " + f.window_start);
        return f;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The record to store under {@code id}, a new incarnation (a new session as far as the cluster knows). */
    SessionRecord toRecord(String id, String importedBy) {
        List<Turn> out = new ArrayList<>();
        for (TurnEntry t : turns) {
            out.add(new Turn(t.index, t.request_id, "import-" + importedBy, t.user_text, t.user_tokens,
                    t.assistant_text, t.assistant_tokens, t.finish_reason, t.worker_id == null ? "" : t.worker_id,
                    t.prompt_tokens, t.create_time_ms));
        }
        Settings s = settings;
        return new SessionRecord(id, owner, model_id, system_prompt == null ? "" : system_prompt,
                system_tokens == null ? new int[0] : system_tokens, tokenizer_fingerprint,
                new StoredSettings(s.context_budget_tokens, s.pruning_policy, s.low_watermark_percent,
                        s.temperature, s.top_p, s.seed, s.max_tokens), out, window_start, out.size(),
                create_time_ms, update_time_ms, SessionRecord.newIncarnation(), "");
    }

    /** This file with every token list re-made from the texts by another tokenizer (and its model id). */
    SessionFile retokenized(String modelId, String fingerprint, java.util.function.Function<String, int[]> encode) {
        List<TurnEntry> out = new ArrayList<>();
        for (TurnEntry t : turns) {
            out.add(new TurnEntry(t.index, t.request_id, t.user_text, encode.apply(t.user_text), t.assistant_text,
                    encode.apply(t.assistant_text), t.finish_reason, t.worker_id, t.prompt_tokens, t.create_time_ms));
        }
        return new SessionFile(format, session_id, owner, modelId, fingerprint, system_prompt,
                encode.apply(system_prompt == null ? "" : system_prompt), settings, window_start, create_time_ms,
                update_time_ms, out);
    }
}
