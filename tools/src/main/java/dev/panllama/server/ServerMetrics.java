package dev.panllama.server;

import dev.panllama.generate.Completion;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What {@code /metrics} reports, in Prometheus' text format: llama.cpp server's counters (prompt and
 * predicted tokens and seconds, requests processing and deferred), plus requests by endpoint and status,
 * cancelled requests, slots and KV cache use, and the decode loop's passes (llama.cpp's n_decode_total and
 * n_busy_slots_per_decode).
 */
final class ServerMetrics {
    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder promptTokensCached = new LongAdder();
    private final LongAdder promptNanos = new LongAdder();
    private final LongAdder predictedTokens = new LongAdder();
    private final LongAdder predictedNanos = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final LongAdder decodes = new LongAdder();
    private final LongAdder decodedSequences = new LongAdder();

    void request(String endpoint, int status) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
    }

    void completion(Completion.Result r) {
        promptTokens.add(r.promptTokens() - r.cachedTokens());
        promptTokensCached.add(r.cachedTokens());
        promptNanos.add(r.promptNanos());
        predictedTokens.add(r.completionTokens());
        predictedNanos.add(r.generateNanos());
        if (r.finishReason() == Completion.FinishReason.CANCELLED) cancelled.increment();
    }

    /** One pass of the decode loop over {@code sequences} slots' tokens. */
    void decoded(int sequences) {
        decodes.increment();
        decodedSequences.add(sequences);
    }

    /** Forgets every count (after the warm-up, which is no one's request). */
    void reset() {
        requests.clear();
        for (LongAdder a : new LongAdder[]{promptTokens, promptTokensCached, promptNanos, predictedTokens, predictedNanos, cancelled, decodes, decodedSequences}) {
            a.reset();
        }
    }

    long cancelledRequests() { return cancelled.sum(); }

    long predictedTokens() { return predictedTokens.sum(); }

    String render(SlotPool slots) {
        StringBuilder sb = new StringBuilder();
        counter(sb, "panllama_prompt_tokens_total", "Prompt tokens evaluated (not taken from a slot's cache).", promptTokens.sum());
        counter(sb, "panllama_prompt_tokens_cached_total", "Prompt tokens taken from a slot's KV cache.", promptTokensCached.sum());
        counter(sb, "panllama_prompt_seconds_total", "Time spent evaluating prompts.", promptNanos.sum() / 1e9);
        counter(sb, "panllama_tokens_predicted_total", "Tokens generated.", predictedTokens.sum());
        counter(sb, "panllama_tokens_predicted_seconds_total", "Time spent generating tokens.", predictedNanos.sum() / 1e9);
        counter(sb, "panllama_requests_cancelled_total", "Generations stopped because the client went away.", cancelled.sum());
        counter(sb, "panllama_decode_total", "Forward passes of the decode loop.", decodes.sum());
        long passes = decodes.sum();
        gauge(sb, "panllama_busy_slots_per_decode", "Slots evaluated per pass, on average (continuous batching).",
                passes == 0 ? 0 : (double) decodedSequences.sum() / passes);
        gauge(sb, "panllama_requests_processing", "Requests holding a slot.", slots.busy());
        gauge(sb, "panllama_requests_deferred", "Requests waiting for a free slot.", slots.waiting());
        gauge(sb, "panllama_slots_total", "Slots (--parallel).", slots.size());
        gauge(sb, "panllama_kv_cache_tokens", "Tokens held in the slots' KV caches.", slots.cachedTokens());
        sb.append("# HELP panllama_requests_total HTTP requests answered, by endpoint and status.\n");
        sb.append("# TYPE panllama_requests_total counter\n");
        requests.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String[] k = e.getKey().split("\u0000");
            sb.append("panllama_requests_total{endpoint=\"").append(k[0]).append("\",status=\"").append(k[1]).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        });
        return sb.toString();
    }

    private static void counter(StringBuilder sb, String name, String help, double value) {
        metric(sb, name, help, "counter", value);
    }

    private static void gauge(StringBuilder sb, String name, String help, double value) {
        metric(sb, name, help, "gauge", value);
    }

    private static void metric(StringBuilder sb, String name, String help, String type, double value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        sb.append(name).append(' ').append(value == Math.rint(value) ? Long.toString((long) value) : String.format(Locale.ROOT, "%.6f", value)).append('\n');
    }
}
