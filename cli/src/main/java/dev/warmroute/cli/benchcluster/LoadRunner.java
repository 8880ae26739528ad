package dev.warmroute.cli.benchcluster;

import dev.warmroute.api.v1.CacheReason;
import dev.warmroute.api.v1.CacheStatus;
import dev.warmroute.api.v1.CacheOutcome;
import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cli.chat.ChatClient;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a workload through a router: {@code concurrency} clients, each running whole sessions one after another
 * (create, every message in order as soon as the previous answer is complete, delete). Client k starts once client
 * k-1's first turn has completed, so the sessions' long first turns (cold everywhere) arrive one by one as users do,
 * not as one synchronised burst. Closed loop, no think time: the cluster runs at its capacity, so turns per second is
 * what each approach can serve.
 */
final class LoadRunner {

    private static final Duration DEADLINE = Duration.ofMinutes(5);
    static final String OWNER = "bench";

    /** What a run produced. */
    record Result(List<TurnSample> turns, double wallSeconds) {}

    private LoadRunner() {}

    static Result run(String target, ClusterWorkload w, long seed, int concurrency, PrintWriter progress,
            String label) throws InterruptedException {
        ConcurrentLinkedQueue<TurnSample> samples = new ConcurrentLinkedQueue<>();
        AtomicInteger nextSession = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        int total = w.turns();
        CountDownLatch[] firstTurn = new CountDownLatch[concurrency];
        for (int i = 0; i < concurrency; i++) {
            firstTurn[i] = new CountDownLatch(1);
        }
        long start = System.nanoTime();
        try (ChatClient client = new ChatClient(target, OWNER);
             Deleter deleter = new Deleter(target);
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int k = 0; k < concurrency; k++) {
                int slot = k;
                running.add(clients.submit(() -> {
                    if (slot > 0) {
                        firstTurn[slot - 1].await();
                    }
                    boolean first = true;
                    for (int s = nextSession.getAndIncrement(); s < w.sessions(); s = nextSession.getAndIncrement()) {
                        runSession(client, deleter, w, seed, s, samples, first ? firstTurn[slot] : null, done, total,
                                progress, label);
                        first = false;
                    }
                    firstTurn[slot].countDown();
                    return null;
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("a client failed: " + e.getCause(), e.getCause());
                }
            }
        }
        List<TurnSample> all = new ArrayList<>(samples);
        long end = all.stream().mapToLong(TurnSample::endNanos).max().orElse(System.nanoTime());
        return new Result(all, (end - start) / 1e9);
    }

    private static void runSession(ChatClient client, Deleter deleter, ClusterWorkload w, long seed, int index,
            ConcurrentLinkedQueue<TurnSample> samples, CountDownLatch firstTurn, AtomicInteger done, int total,
            PrintWriter progress, String label) {
        String id = w.sessionId(seed, index);
        SamplingParams sampling = SamplingParams.newBuilder().setTemperature(0.8f).setTopP(0.95f)
                .setSeed(seed * 1000 + index).setMaxTokens(w.maxTokens()).build();
        try {
            client.ensureSession(id, w.systemPrompt(), SessionSettings.newBuilder().setSampling(sampling).build(),
                    DEADLINE);
        } catch (StatusRuntimeException e) {
            // Without a session no turn can run: each of its turns counts as an error.
            for (int t = 0; t < w.messages().get(index).size(); t++) {
                samples.add(new TurnSample(id, t, "", 0, 0, 0, 0, 0, "", false, false, "",
                        "CreateSession " + e.getStatus().getCode(), System.nanoTime(), null));
            }
            if (firstTurn != null) {
                firstTurn.countDown();
            }
            return;
        }
        List<String> messages = w.messages().get(index);
        for (int t = 0; t < messages.size(); t++) {
            long t0 = System.nanoTime();
            TurnSample sample;
            try {
                ChatClient.TurnResult r = client.send(ChatClient.message(id, "t" + t, messages.get(t),
                        SamplingParams.getDefaultInstance()), d -> { }, DEADLINE);
                long t1 = System.nanoTime();
                TurnComplete c = r.complete();
                double total1 = (t1 - t0) / 1e6;
                sample = new TurnSample(id, t, c.getWorkerId(), c.getUsage().getPromptTokens(),
                        c.getUsage().getComputedTokens(), c.getUsage().getGeneratedTokens(),
                        r.firstDeltaMs() >= 0 ? r.firstDeltaMs() : total1, total1, cache(c.getCache()),
                        c.getRouting().getFallback(), c.getRouting().getRebalanced(), c.getText(), null, t1,
                        c.getTimings());
            } catch (StatusRuntimeException e) {
                sample = new TurnSample(id, t, "", 0, 0, 0, 0, (System.nanoTime() - t0) / 1e6, "", false, false,
                        "", e.getStatus().getCode() + ": " + e.getStatus().getDescription(), System.nanoTime(), null);
            }
            samples.add(sample);
            if (t == 0 && firstTurn != null) {
                firstTurn.countDown();
            }
            int n = done.incrementAndGet();
            if (n % Math.max(1, total / 10) == 0) {
                progress.printf(Locale.ROOT, "bench cluster: %s %d/%d turns%n", label, n, total);
                progress.flush();
            }
        }
        try {
            deleter.delete(id);
        } catch (StatusRuntimeException e) {
            progress.printf("bench cluster: %s: deleting %s failed: %s%n", label, id, e.getStatus());
        }
    }

    /** "warm", "cold:stateless", "partial:prefix_mismatch": the trailer's form. */
    static String cache(CacheOutcome o) {
        String s = o.getStatus().name().substring("CACHE_STATUS_".length()).toLowerCase(Locale.ROOT);
        if (o.getStatus() == CacheStatus.CACHE_STATUS_WARM || o.getReason() == CacheReason.CACHE_REASON_NONE
                || o.getReason() == CacheReason.CACHE_REASON_UNSPECIFIED) {
            return s;
        }
        return s + ":" + o.getReason().name().substring("CACHE_REASON_".length()).toLowerCase(Locale.ROOT);
    }

    /** Deletes finished sessions (their caches go with them, so workers hold only live sessions). */
    static final class Deleter implements AutoCloseable {
        private final io.grpc.ManagedChannel channel;
        private final dev.warmroute.api.v1.ChatServiceGrpc.ChatServiceBlockingStub stub;

        Deleter(String target) {
            channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(target).usePlaintext().build();
            io.grpc.Metadata headers = new io.grpc.Metadata();
            headers.put(dev.warmroute.cluster.CallMetadata.OWNER, OWNER);
            stub = dev.warmroute.api.v1.ChatServiceGrpc.newBlockingStub(channel).withInterceptors(
                    io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
        }

        void delete(String sessionId) {
            stub.withDeadlineAfter(DEADLINE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                    .deleteSession(dev.warmroute.api.v1.DeleteSessionRequest.newBuilder().setSessionId(sessionId)
                            .setAllowMissing(true).build());
        }

        @Override
        public void close() {
            channel.shutdownNow();
        }
    }
}
