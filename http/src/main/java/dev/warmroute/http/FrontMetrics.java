package dev.warmroute.http;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The front's figures, as the HTTP client sees them, in the process's registry (so a router's {@code /metrics}
 * shows them beside its own). Names follow vLLM's where the figure is the same ({@code time_to_first_token_seconds},
 * {@code inter_token_latency_seconds}, {@code e2e_request_latency_seconds}, {@code prompt_tokens},
 * {@code generation_tokens}, {@code prefix_cache_hits}/{@code prefix_cache_queries} in tokens,
 * {@code num_requests_running}), under the prefix {@code warmroute_http_}.
 */
final class FrontMetrics {

    private static final double[] LATENCY = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] TOKEN_GAP = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

    private final Counter requests;
    private final Histogram ttft;
    private final Histogram interToken;
    private final Histogram e2e;
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter cacheHits;
    private final Counter cacheQueries;
    private final Gauge running;

    FrontMetrics(PrometheusRegistry registry) {
        requests = Counter.builder().name("warmroute_http_requests")
                .help("HTTP requests answered by the OpenAI-compatible front, by endpoint and HTTP status")
                .labelNames("endpoint", "status").register(registry);
        ttft = Histogram.builder().name("warmroute_http_time_to_first_token_seconds")
                .help("From a chat completion request's arrival to its first answer token sent, by stream or not")
                .labelNames("stream").classicUpperBounds(LATENCY).register(registry);
        interToken = Histogram.builder().name("warmroute_http_inter_token_latency_seconds")
                .help("Time between two successive pieces of a streamed answer sent to the client")
                .classicUpperBounds(TOKEN_GAP).register(registry);
        e2e = Histogram.builder().name("warmroute_http_e2e_request_latency_seconds")
                .help("From a chat completion request's arrival to its last byte, completed requests")
                .classicUpperBounds(LATENCY).register(registry);
        promptTokens = Counter.builder().name("warmroute_http_prompt_tokens")
                .help("Prompt tokens of completed chat completions").register(registry);
        generationTokens = Counter.builder().name("warmroute_http_generation_tokens")
                .help("Answer tokens of completed chat completions").register(registry);
        cacheHits = Counter.builder().name("warmroute_http_prefix_cache_hits")
                .help("Prompt tokens taken from a worker's KV cache (usage.prompt_tokens_details.cached_tokens)")
                .register(registry);
        cacheQueries = Counter.builder().name("warmroute_http_prefix_cache_queries")
                .help("Prompt tokens looked up in a worker's KV cache (all prompt tokens of completed turns)")
                .register(registry);
        running = Gauge.builder().name("warmroute_http_num_requests_running")
                .help("Chat completion requests the front is serving now").register(registry);
        // Labelled series exist from the start, so dashboards and alerts see zeros rather than gaps.
        ttft.labelValues("true");
        ttft.labelValues("false");
    }

    void answered(String endpoint, int status) {
        requests.labelValues(endpoint, String.valueOf(status)).inc();
    }

    void began() {
        running.inc();
    }

    void ended() {
        running.dec();
    }

    void firstToken(boolean stream, double seconds) {
        ttft.labelValues(String.valueOf(stream)).observe(seconds);
    }

    void tokenGap(double seconds) {
        interToken.observe(seconds);
    }

    void completed(double seconds, int prompt, int cached, int generated) {
        e2e.observe(seconds);
        promptTokens.inc(prompt);
        generationTokens.inc(generated);
        cacheHits.inc(cached);
        cacheQueries.inc(prompt);
    }
}
