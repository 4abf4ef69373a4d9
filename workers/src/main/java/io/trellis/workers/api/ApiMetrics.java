package io.trellis.workers.api;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Request counters and latency histograms per route, written in the Prometheus text format (0.0.4). */
public final class ApiMetrics {
    private static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private record Key(String method, String route, int status) {}

    private static final class Histogram {
        final LongAdder[] buckets = new LongAdder[BUCKETS.length];
        final LongAdder count = new LongAdder();
        final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        void observe(double seconds) {
            for (int i = 0; i < BUCKETS.length; i++) {
                if (seconds <= BUCKETS[i]) {
                    buckets[i].increment();
                }
            }
            count.increment();
            sum.add(seconds);
        }
    }

    private final Map<Key, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> durations = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> triggers = new ConcurrentHashMap<>();

    void recordRequest(String method, String route, int status, long nanos) {
        requests.computeIfAbsent(new Key(method, route, status), k -> new LongAdder()).increment();
        durations.computeIfAbsent(method + " " + route, k -> new Histogram()).observe(nanos / 1e9);
    }

    /** {@code outcome}: started (a new run) or replayed (an idempotency key named an existing one). */
    void recordTrigger(String outcome) {
        triggers.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }

    /** The exposition; {@code gauges} are extra samples read at scrape time (name with labels → value). */
    String render(Map<String, Map<String, Double>> gauges) {
        StringBuilder out = new StringBuilder();
        out.append("# HELP trellis_http_requests_total HTTP requests answered, by route template and status.\n");
        out.append("# TYPE trellis_http_requests_total counter\n");
        new TreeMap<String, Long>(requests.entrySet().stream().collect(java.util.stream.Collectors.toMap(
                e -> "{method=\"" + e.getKey().method() + "\",route=\"" + escape(e.getKey().route()) + "\",status=\"" + e.getKey().status() + "\"}",
                e -> e.getValue().sum()))).forEach((labels, v) -> out.append("trellis_http_requests_total").append(labels).append(' ').append(v).append('\n'));
        out.append("# HELP trellis_http_request_duration_seconds Time to answer a request, by route template.\n");
        out.append("# TYPE trellis_http_request_duration_seconds histogram\n");
        new TreeMap<>(durations).forEach((key, h) -> {
            String method = key.substring(0, key.indexOf(' '));
            String labels = "method=\"" + method + "\",route=\"" + escape(key.substring(key.indexOf(' ') + 1)) + "\"";
            for (int i = 0; i < BUCKETS.length; i++) {
                out.append("trellis_http_request_duration_seconds_bucket{").append(labels).append(",le=\"").append(format(BUCKETS[i]))
                        .append("\"} ").append(h.buckets[i].sum()).append('\n');
            }
            out.append("trellis_http_request_duration_seconds_bucket{").append(labels).append(",le=\"+Inf\"} ").append(h.count.sum()).append('\n');
            out.append("trellis_http_request_duration_seconds_sum{").append(labels).append("} ").append(format(h.sum.sum())).append('\n');
            out.append("trellis_http_request_duration_seconds_count{").append(labels).append("} ").append(h.count.sum()).append('\n');
        });
        out.append("# HELP trellis_retrain_triggers_total Retrain requests accepted by the API, by outcome (started, replayed).\n");
        out.append("# TYPE trellis_retrain_triggers_total counter\n");
        new TreeMap<>(triggers).forEach((outcome, v) -> out.append("trellis_retrain_triggers_total{outcome=\"").append(outcome).append("\"} ")
                .append(v.sum()).append('\n'));
        gauges.forEach((name, samples) -> {
            out.append("# TYPE ").append(name).append(" gauge\n");
            samples.forEach((labels, v) -> out.append(name).append(labels).append(' ').append(format(v)).append('\n'));
        });
        return out.toString();
    }

    private static String format(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.6f", v);
    }

    static String escape(String label) {
        return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
