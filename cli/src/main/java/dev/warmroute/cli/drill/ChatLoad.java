package dev.warmroute.cli.drill;

import dev.warmroute.api.v1.SamplingParams;
import dev.warmroute.api.v1.SessionSettings;
import dev.warmroute.api.v1.TurnComplete;
import dev.warmroute.cli.chat.ChatClient;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The drill's chat load: {@code sessions} sessions talk at once, each one turn after the other ({@code turns} turns,
 * a think time between them, as a person would), through one router. Every user text is unique per session and turn
 * ("(s03 t5) ..."), so {@link HistoryAudit} finds each turn in the stored history. Temperature 0 and short answers:
 * the answers are reproducible, and a turn is dominated by the prompt, which is what the cache saves.
 *
 * <p>The client never retries, unless told to ({@link #retryUnavailable}): whatever the router does not hide is a
 * client-visible error. A full restart or a partition has moments when nothing serves at all; there the client does
 * what a real one must, retry UNAVAILABLE with the same request id (idempotent: a committed turn is replayed), and the
 * retries are counted.
 */
public final class ChatLoad {

    /** What the load does. */
    public record Settings(String runId, int sessions, int turns, int maxTokens, Duration think, Duration deadline,
            String systemPrompt, long seed) {
        public Settings {
            if (sessions < 1 || turns < 1 || maxTokens < 1) {
                throw new IllegalArgumentException("sessions, turns and max-tokens: at least 1");
            }
        }

        public String sessionId(int i) {
            return String.format(Locale.ROOT, "drill-%s-s%02d", runId, i);
        }

        /** The inverse of {@link #sessionId}. */
        public static int sessionIndex(String sessionId) {
            return Integer.parseInt(sessionId.substring(sessionId.lastIndexOf("-s") + 2));
        }
    }

    private static final String[] PROMPTS = {
        "Once upon a time there was a little dog.", "What did the cat find in the garden?",
        "Tell me about the big red ball.", "Where did the bird fly?", "Why was the girl happy?",
        "What happened at the park?", "Who came to the party?", "What did they eat for lunch?",
        "How did the boy help his mom?", "What was inside the box?", "What did the bunny say?",
        "Where was the toy hiding?",
    };

    private final ChatClient client;
    private final Settings settings;
    private final long t0;
    private final List<TurnRecord> records = new ArrayList<>();
    /** The worker's and router's own timings of each successful turn, by request id (for diagnosis). */
    private final java.util.Map<String, TurnComplete> completes = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger errors = new AtomicInteger();
    private final AtomicInteger warm = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    private volatile Duration retryUnavailableFor = Duration.ZERO;
    private volatile boolean holdOpen;
    private volatile double faultAtMs = Double.NaN;
    private volatile int turnsAfterFault;

    /** Upper bound on a session's turns when the fault keeps the load open: turns x this. */
    static final int MAX_EXTENSION = 4;

    /**
     * @param t0Nanos the drill's time zero ({@link System#nanoTime()}); records are relative to it
     */
    public ChatLoad(ChatClient client, Settings settings, long t0Nanos) {
        this.client = client;
        this.settings = settings;
        this.t0 = t0Nanos;
    }

    /** The unique text (the tag carries session and turn; the prompts repeat) of turn {@code turn} of session {@code session}. */
    public static String userText(int session, int turn) {
        return String.format(Locale.ROOT, "(s%02d t%d) %s", session, turn, PROMPTS[(session * 7 + turn) % PROMPTS.length]);
    }

    /** Creates every session (temperature 0, the answer length), failing fast when the target does not answer. */
    public void createSessions() {
        SessionSettings s = SessionSettings.newBuilder().setSampling(sampling()).build();
        for (int i = 0; i < settings.sessions(); i++) {
            client.ensureSession(settings.sessionId(i), settings.systemPrompt(), s, settings.deadline());
        }
    }

    private SamplingParams sampling() {
        return SamplingParams.newBuilder().setTemperature(0).setMaxTokens(settings.maxTokens())
                .setSeed(settings.seed()).build();
    }

    /**
     * Runs every session to its last turn (each on a virtual thread) and returns when all are done. Session starts
     * are spread over one think time, and each think time varies by ±25% (seeded), so turns do not march in step.
     */
    public void run() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(settings.sessions());
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < settings.sessions(); i++) {
                int session = i;
                executor.execute(() -> {
                    try {
                        runSession(session);
                    } finally {
                        done.countDown();
                    }
                });
            }
            done.await();
        }
    }

    /**
     * From now on a turn that fails with UNAVAILABLE (or the router's "cluster at capacity" RESOURCE_EXHAUSTED, which
     * says to retry) is sent again, with the same request id, every 250 ms for up to
     * {@code within} (ZERO: never). Its record then holds the final outcome and the whole time.
     */
    public void retryUnavailable(Duration within) {
        retryUnavailableFor = within;
    }

    /** Attempts sent again after UNAVAILABLE (see {@link #retryUnavailable}). */
    public int retries() {
        return retries.get();
    }

    /**
     * While held open, sessions keep talking past their last turn: a fault that takes a while (a worker starting,
     * a freeze) still meets a running load. Released with {@link #faultAt}.
     */
    public void holdOpen() {
        holdOpen = true;
    }

    /**
     * The fault's moment is known: each session runs at least {@code turnsAfter} turns that start after it (and at
     * least its configured turns), then stops.
     */
    public void faultAt(double atMs, int turnsAfter) {
        this.turnsAfterFault = turnsAfter;
        this.faultAtMs = atMs;
        this.holdOpen = false;
    }

    /** Whether a session that has run {@code turn} turns (starting at {@code starts}) goes on. */
    private boolean goesOn(int turn, List<Double> starts) {
        if (turn < settings.turns()) {
            return true;
        }
        if (turn >= settings.turns() * MAX_EXTENSION) {
            return false;
        }
        if (holdOpen) {
            return true;
        }
        double fault = faultAtMs;
        if (Double.isNaN(fault)) {
            return false;
        }
        long after = starts.stream().filter(s -> s >= fault).count();
        return after < turnsAfterFault;
    }

    private void runSession(int session) {
        Random random = new Random(settings.seed() * 31 + session);
        long think = settings.think().toMillis();
        sleep(think == 0 ? 0 : (long) (think * (double) session / settings.sessions()));
        running.incrementAndGet();
        List<Double> starts = new ArrayList<>();
        try {
            for (int turn = 0; goesOn(turn, starts); turn++) {
                if (turn > 0) {
                    sleep((long) (think * (0.75 + 0.5 * random.nextDouble())));
                }
                TurnRecord r = turn(session, turn);
                starts.add(r.startMs());
                synchronized (records) {
                    records.add(r);
                }
                completed.incrementAndGet();
                if (!r.ok()) {
                    errors.incrementAndGet();
                } else if (r.warm()) {
                    warm.incrementAndGet();
                }
            }
        } finally {
            running.decrementAndGet();
        }
    }

    private TurnRecord turn(int session, int turn) {
        String sessionId = settings.sessionId(session);
        String text = userText(session, turn);
        String requestId = sessionId + "-t" + turn;
        double start = sinceStart(System.nanoTime());
        long retryUntil = System.nanoTime() + retryUnavailableFor.toNanos();
        while (true) {
            TurnRecord r = attempt(sessionId, turn, requestId, text, start);
            // A real client retries UNAVAILABLE, and the router's shed ("cluster at capacity", with retry-after):
            // both are the cluster's to get over (a restart, a burst), the same request id makes either idempotent.
            boolean again = r.error().startsWith("UNAVAILABLE")
                    || r.error().startsWith("RESOURCE_EXHAUSTED: cluster at capacity");
            if (r.ok() || !again || System.nanoTime() >= retryUntil) {
                return r;
            }
            retries.incrementAndGet();
            sleep(250);
        }
    }

    private TurnRecord attempt(String sessionId, int turn, String requestId, String text, double start) {
        StringBuilder answer = new StringBuilder();
        try {
            ChatClient.TurnResult r = client.send(ChatClient.message(sessionId, requestId, text, sampling()),
                    d -> answer.append(d.getText()), settings.deadline());
            double total = sinceStart(System.nanoTime()) - start;
            TurnComplete c = r.complete();
            completes.put(requestId, c);
            double ttft = r.firstDeltaMs() >= 0 ? r.firstDeltaMs() : total;
            String cache = c.getCache().getStatus().name().replace("CACHE_STATUS_", "").toLowerCase(Locale.ROOT);
            return new TurnRecord(sessionId, turn, requestId, text, start, ttft, total, c.getWorkerId(), cache,
                    c.getRouting().getFallback(), c.getRouting().getResumed(), answer.toString(), "");
        } catch (StatusRuntimeException e) {
            double total = sinceStart(System.nanoTime()) - start;
            return new TurnRecord(sessionId, turn, requestId, text, start, -1, total, "", "", false, false,
                    answer.toString(), e.getStatus().getCode() + ": " + e.getStatus().getDescription());
        }
    }

    private double sinceStart(long nanos) {
        return (nanos - t0) / 1e6;
    }

    private static void sleep(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public List<TurnRecord> records() {
        synchronized (records) {
            return List.copyOf(records);
        }
    }

    /** TurnComplete of a successful turn (worker timings, routing), or null. */
    public TurnComplete complete(String requestId) {
        return completes.get(requestId);
    }

    public int completed() {
        return completed.get();
    }

    public int errors() {
        return errors.get();
    }

    public int warm() {
        return warm.get();
    }

    public int total() {
        return settings.sessions() * settings.turns();
    }

    public Settings settings() {
        return settings;
    }
}
