package dev.warmroute.cli.benchcluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToIntFunction;

/**
 * One of DESIGN.md's two reference workloads for the cluster benchmark, with every text fixed by the seed so that all
 * approaches get exactly the same sessions, messages and sampling (and therefore the same answers).
 *
 * <ul>
 *   <li>{@code qa} (multi-round QA, the shape of LMCache's and production-stack's benchmarks): each session opens with
 *       a long shared context of about half the model's context window (the system prompt, the same document for
 *       every session), then 10 short questions of about 20 tokens with answers of 30 tokens.
 *   <li>{@code chat}: a short system prompt, then 8 turns of about 40-token messages and 60-token answers.
 * </ul>
 *
 * @param name          "qa" or "chat"
 * @param systemPrompt  the system prompt of every session
 * @param systemTokens  its size in tokens
 * @param messages      per session, its user messages in order
 * @param messageTokens the target size of a message in tokens
 * @param maxTokens     answer length (max_tokens; the synthetic model rarely stops earlier)
 */
record ClusterWorkload(String name, String systemPrompt, int systemTokens, List<List<String>> messages,
        int messageTokens, int maxTokens) {

    static final List<String> NAMES = List.of("qa", "chat");

    static ClusterWorkload qa(ToIntFunction<String> tokens, int sessions, int contextLength, long seed) {
        WordText text = new WordText(tokens);
        Random shared = new Random(seed * 31 + 1);
        String document = text.ofTokens(contextLength / 2, shared);
        return new ClusterWorkload("qa", document, tokens.applyAsInt(document),
                messages(text, sessions, 10, 20, seed * 31 + 2), 20, 30);
    }

    static ClusterWorkload chat(ToIntFunction<String> tokens, int sessions, long seed) {
        WordText text = new WordText(tokens);
        String system = text.ofTokens(20, new Random(seed * 31 + 3));
        return new ClusterWorkload("chat", system, tokens.applyAsInt(system),
                messages(text, sessions, 8, 40, seed * 31 + 4), 40, 60);
    }

    private static List<List<String>> messages(WordText text, int sessions, int turns, int size, long seed) {
        List<List<String>> all = new ArrayList<>(sessions);
        for (int s = 0; s < sessions; s++) {
            Random r = new Random(seed * 1_000_003L + s);
            List<String> m = new ArrayList<>(turns);
            for (int t = 0; t < turns; t++) {
                m.add(text.ofTokens(size, r) + "?");
            }
            all.add(List.copyOf(m));
        }
        return List.copyOf(all);
    }

    int sessions() {
        return messages.size();
    }

    int turns() {
        return messages.stream().mapToInt(List::size).sum();
    }

    /** The session ids: fixed by workload and seed, the same for every approach (hence the same hash spread). */
    String sessionId(long seed, int index) {
        return name + "-s" + seed + "-" + index;
    }
}
