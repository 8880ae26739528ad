package dev.warmroute.worker;

import com.google.protobuf.Timestamp;
import dev.warmroute.api.v1.ChatMessage;
import dev.warmroute.api.v1.PruningPolicy;
import dev.warmroute.api.v1.Role;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.Session;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cluster.session.SessionRecord;
import dev.warmroute.cluster.session.StoredSettings;
import dev.warmroute.cluster.session.Turn;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Stored records as the API shows them, and the conversation they hold as token ids. */
final class SessionViews {

    private SessionViews() {}

    /** {@code window_tokens} counts the stored ids, as they are, by the prompt window's one way of counting. */
    static Session toProto(SessionRecord r, PromptWindow window, boolean includeMessages) {
        Session.Builder b = Session.newBuilder().setSessionId(r.sessionId()).setOwner(r.owner())
                .setModelId(r.modelId()).setSystemPrompt(r.systemPrompt()).setSettings(settings(r.settings()))
                .setVersion(r.version()).setTurnCount(r.turns().size()).setWindowStart(r.windowStart())
                .setWindowTokens(window.windowTokens(stored(r, new int[0])))
                .setCreateTime(timestamp(r.createTimeMs())).setUpdateTime(timestamp(r.updateTimeMs()));
        if (includeMessages) {
            if (!r.systemPrompt().isEmpty()) {
                b.addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_SYSTEM).setContent(r.systemPrompt())
                        .setTokenCount(r.systemTokens().length).setTurnIndex(-1).setInWindow(true)
                        .setCreateTime(timestamp(r.createTimeMs())));
            }
            for (Turn t : r.turns()) {
                boolean in = t.index() >= r.windowStart();
                b.addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(t.userText())
                        .setTokenCount(t.userTokens().length).setTurnIndex(t.index()).setInWindow(in)
                        .setCreateTime(timestamp(t.createTimeMs())));
                b.addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_ASSISTANT).setContent(t.assistantText())
                        .setTokenCount(t.assistantTokens().length).setTurnIndex(t.index()).setInWindow(in)
                        .setCreateTime(timestamp(t.createTimeMs())));
            }
        }
        return b.build();
    }

    static SessionSettings settings(StoredSettings s) {
        return SessionSettings.newBuilder().setContextBudgetTokens(s.contextBudgetTokens())
                .setPruningPolicy(PruningPolicy.forNumber(s.pruningPolicy()))
                .setLowWatermarkPercent(s.lowWatermarkPercent())
                .setSampling(SamplingParams.newBuilder().setTemperature(s.temperature()).setTopP(s.topP())
                        .setSeed(s.seed()).setMaxTokens(s.maxTokens()))
                .build();
    }

    /**
     * The stored conversation as ids for the prompt window. Stored ids are used as they are when they were made by
     * this model's tokenizer (same fingerprint); otherwise every message is encoded again from its text (the cache
     * then misses at the first difference, which the cache outcome reports as a prefix mismatch).
     */
    static PromptWindow.Conversation conversation(SessionRecord r, EngineModel model, int[] next) {
        if (r.tokenizerFingerprint().equals(model.tokenizerFingerprint())) {
            return stored(r, next);
        }
        return conversation(r, model.encodeContent(r.systemPrompt()), t -> model.encodeContent(t.userText()),
                t -> model.encodeContent(t.assistantText()), next);
    }

    /** The conversation as its stored ids. */
    private static PromptWindow.Conversation stored(SessionRecord r, int[] next) {
        return conversation(r, r.systemTokens(), Turn::userTokens, Turn::assistantTokens, next);
    }

    private static PromptWindow.Conversation conversation(SessionRecord r, int[] system, Function<Turn, int[]> user,
            Function<Turn, int[]> answer, int[] next) {
        List<int[]> users = new ArrayList<>(r.turns().size());
        List<int[]> answers = new ArrayList<>(r.turns().size());
        for (Turn t : r.turns()) {
            users.add(user.apply(t));
            answers.add(answer.apply(t));
        }
        return new PromptWindow.Conversation(system, users, answers, r.windowStart(), next);
    }

    static Timestamp timestamp(long epochMs) {
        return Timestamp.newBuilder().setSeconds(Math.floorDiv(epochMs, 1000))
                .setNanos((int) Math.floorMod(epochMs, 1000) * 1_000_000).build();
    }
}
