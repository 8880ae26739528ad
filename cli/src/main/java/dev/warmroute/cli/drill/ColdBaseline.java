package dev.warmroute.cli.drill;

import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.cli.chat.ChatClient;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The yardstick for "TTFT during the fault": the time to first token of the same cold turns without any fault.
 *
 * <p>For each session the fault sent cold (its first turn after the fault ran on another worker), a probe session
 * replays the same user messages up to that turn through the router (temperature 0, so the answers and hence the
 * stored token ids are the same as the original's — checked), and then sends that turn straight to a live worker
 * that does not hold its cache, which rebuilds the whole prompt from history: the failover's computation at the same
 * history length, minus the failure. The cold turns start spread over one think time, as in the load, so they meet
 * the same concurrency. (The direct call skips the router's hop, about a millisecond: slightly stricter.)
 */
final class ColdBaseline {

    /**
     * @param ttftMs          client-measured TTFT of the probe turns that were cold
     * @param turns           probe turns sent
     * @param cold            of them, served cold
     * @param errors          of them, failed
     * @param replayMismatches replayed answers that differed from the original (the probe history then differs)
     */
    record Result(List<Double> ttftMs, int turns, int cold, int errors, int replayMismatches) {
        static Result none() {
            return new Result(List.of(), 0, 0, 0, 0);
        }

        double p50() {
            return DrillReport.percentile(sorted(), 0.50);
        }

        double p99() {
            return DrillReport.percentile(sorted(), 0.99);
        }

        private List<Double> sorted() {
            return ttftMs.stream().sorted().toList();
        }
    }

    /** A session to probe: its index in the load and the turn that went cold. */
    record Probe(int session, int coldTurn) {}

    private ColdBaseline() {}

    /**
     * Which turns the fault made cold: each session's first turn after the fault, when it ran on another worker than
     * the turn before it. When no session moved (join, none), every session's first turn after the fault (or its
     * middle turn without a fault), so there is still a yardstick.
     */
    static List<Probe> probes(List<TurnRecord> records, double faultAtMs, int turns) {
        Map<String, List<TurnRecord>> bySession = new TreeMap<>();
        for (TurnRecord t : records) {
            bySession.computeIfAbsent(t.sessionId(), k -> new ArrayList<>()).add(t);
        }
        List<Probe> moved = new ArrayList<>();
        List<Probe> all = new ArrayList<>();
        for (var e : bySession.entrySet()) {
            List<TurnRecord> session = e.getValue();
            session.sort(java.util.Comparator.comparingInt(TurnRecord::turn));
            int s = ChatLoad.Settings.sessionIndex(e.getKey());
            TurnRecord first = session.stream().filter(t -> t.startMs() >= faultAtMs).findFirst().orElse(null);
            int k = first == null ? turns / 2 : first.turn();
            if (k < 1) {
                continue;
            }
            all.add(new Probe(s, k));
            TurnRecord previous = session.stream().filter(t -> t.turn() == k - 1).findFirst().orElse(null);
            if (first != null && previous != null && first.ok() && previous.ok()
                    && !first.worker().equals(previous.worker())) {
                moved.add(new Probe(s, k));
            }
        }
        return moved.isEmpty() ? all : moved;
    }

    /**
     * @param router    client of the router (replays)
     * @param answers   the load's answers: session id → turn → answer the client received
     * @param workers   live, serving workers: id → gRPC address
     */
    static Result measure(String owner, ChatClient router, ChatLoad.Settings settings, List<Probe> probes,
            Map<String, Map<Integer, String>> answers, Map<String, String> workers) throws InterruptedException {
        if (probes.isEmpty() || workers.size() < 2) {
            return Result.none();
        }
        SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0).setMaxTokens(settings.maxTokens())
                .setSeed(settings.seed()).build();
        Map<Integer, String> boundTo = new ConcurrentHashMap<>();
        int[] mismatches = {0};
        // 1. Replay each probe session's history through the router (warm turns, no think time).
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Probe p : probes) {
                executor.execute(() -> {
                    String original = settings.sessionId(p.session());
                    String id = original + "-probe";
                    try {
                        router.ensureSession(id, settings.systemPrompt(),
                                SessionSettings.newBuilder().setSampling(sampling).build(), settings.deadline());
                        for (int t = 0; t < p.coldTurn(); t++) {
                            StringBuilder answer = new StringBuilder();
                            ChatClient.TurnResult r = router.send(ChatClient.message(id, id + "-t" + t,
                                    ChatLoad.userText(p.session(), t), sampling), d -> answer.append(d.getText()),
                                    settings.deadline());
                            boundTo.put(p.session(), r.complete().getWorkerId());
                            String expected = answers.getOrDefault(original, Map.of()).get(t);
                            if (expected != null && !expected.contentEquals(answer)) {
                                synchronized (mismatches) {
                                    mismatches[0]++;
                                }
                            }
                        }
                    } catch (StatusRuntimeException e) {
                        boundTo.remove(p.session());
                    }
                });
            }
        }
        // 2. The turn that went cold, straight to a worker without the probe session's cache.
        List<String> ids = new ArrayList<>(new TreeMap<>(workers).keySet());
        Map<String, ChatClient> clients = new HashMap<>();
        for (String w : ids) {
            clients.put(w, new ChatClient(workers.get(w), owner));
        }
        List<Double> ttft = new ArrayList<>();
        int[] counts = new int[3]; // turns, cold, errors
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < probes.size(); i++) {
                Probe p = probes.get(i);
                String warmOn = boundTo.get(p.session());
                if (warmOn == null) {
                    continue;
                }
                String target = ids.get((ids.indexOf(warmOn) + 1 + i) % ids.size());
                if (target.equals(warmOn)) {
                    target = ids.get((ids.indexOf(target) + 1) % ids.size());
                }
                ChatClient client = clients.get(target);
                long delay = settings.think().toMillis() * i / probes.size();
                String id = settings.sessionId(p.session()) + "-probe";
                executor.execute(() -> {
                    try {
                        TimeUnit.MILLISECONDS.sleep(delay);
                        ChatClient.TurnResult r = client.send(ChatClient.message(id, id + "-t" + p.coldTurn(),
                                ChatLoad.userText(p.session(), p.coldTurn()), sampling), d -> { },
                                settings.deadline());
                        boolean cold = r.complete().getCache().getStatus() == CacheStatus.CACHE_STATUS_COLD;
                        synchronized (counts) {
                            counts[0]++;
                            if (cold) {
                                counts[1]++;
                                ttft.add(r.firstDeltaMs() >= 0 ? r.firstDeltaMs()
                                        : r.complete().getTimings().getTtftMs());
                            }
                        }
                    } catch (StatusRuntimeException e) {
                        synchronized (counts) {
                            counts[0]++;
                            counts[2]++;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        } finally {
            clients.values().forEach(ChatClient::close);
        }
        synchronized (counts) {
            return new Result(List.copyOf(ttft), counts[0], counts[1], counts[2], mismatches[0]);
        }
    }
}
