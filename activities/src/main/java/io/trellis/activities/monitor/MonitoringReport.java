package io.trellis.activities.monitor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pebbletemplates.pebble.PebbleEngine;
import io.pebbletemplates.pebble.loader.ClasspathLoader;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import io.trellis.workflows.monitor.DriftResult;
import io.trellis.workflows.monitor.FeatureDriftResult;
import io.trellis.workflows.monitor.MonitorRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Renders a monitoring run as one self-contained HTML page (Pebble template, Chart.js from its webjar inlined, no
 * network needed to view it): the decision and reason, findings, the PSI/KS table by severity, the score histogram
 * and a reference-vs-current histogram per feature. Once every chart has drawn, the page's script checks that each
 * canvas holds painted pixels and sets {@code data-charts-drawn} on the body, which a headless browser can read.
 */
public final class MonitoringReport {
    static final String FILE_NAME = "report.html";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHART_JS = chartJs();

    private final PebbleTemplate template = new PebbleEngine.Builder()
            .loader(new ClasspathLoader(MonitoringReport.class.getClassLoader()))
            .strictVariables(true)
            .build()
            .getTemplate("io/trellis/activities/monitor/report.peb");

    public String render(MonitorRecord record, Instant renderedAt) {
        DriftResult drift = record.drift();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("r", record);
        model.put("renderedAt", renderedAt.toString());
        model.put("decisionClass", record.decision().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        model.put("hasDrift", drift != null);
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> charts = new LinkedHashMap<>();
        if (drift != null) {
            List<FeatureDriftResult> sorted = new ArrayList<>(drift.features());
            sorted.sort(Comparator.comparingInt((FeatureDriftResult f) -> rank(f.severity()))
                    .thenComparing(f -> f.psi() == null ? -1 : f.psi(), Comparator.reverseOrder()));
            List<Map<String, Object>> featureCharts = new ArrayList<>();
            for (FeatureDriftResult f : sorted) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("feature", f.feature());
                row.put("kind", f.numeric() ? "numeric" : "categorical");
                row.put("psi", fmt(f.psi()));
                row.put("ks", fmt(f.ks()));
                row.put("severity", f.severity());
                row.put("severityClass", f.severity().toLowerCase(Locale.ROOT).replace('_', '-'));
                row.put("nulls", pct(f.referenceNullRate()) + " → " + pct(f.currentNullRate()));
                row.put("finding", f.finding() == null ? "" : f.finding());
                rows.add(row);
                if (f.labels() != null && !f.labels().isEmpty()) {
                    featureCharts.add(Map.of("id", "f-" + featureCharts.size(), "feature", f.feature(), "labels", f.labels(),
                            "reference", shares(f.referenceCounts()), "current", shares(f.currentCounts())));
                }
            }
            List<String> scoreLabels = new ArrayList<>();
            int bins = drift.referenceScores().length;
            for (int i = 0; i < bins; i++) {
                scoreLabels.add(String.format(Locale.ROOT, "%.2f", (double) i / bins));
            }
            charts.put("scores", Map.of("labels", scoreLabels, "reference", shares(drift.referenceScores()),
                    "current", shares(drift.currentScores())));
            charts.put("features", featureCharts);
            model.put("featureCharts", featureCharts);
            model.put("predictionPsi", fmt(drift.predictionPsi()));
            model.put("currentAuc", fmt(drift.currentAuc()));
            model.put("findings", drift.findings());
        } else {
            model.put("featureCharts", List.of());
            model.put("findings", List.of());
        }
        model.put("rows", rows);
        model.put("trainingAuc", fmt(record.trainingAuc()));
        model.put("chartData", safeJson(charts));
        model.put("chartJs", CHART_JS);
        StringWriter out = new StringWriter();
        try {
            template.evaluate(out, model, Locale.ROOT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static int rank(String severity) {
        return switch (severity) {
            case FeatureDriftResult.DATA_PROBLEM -> 0;
            case FeatureDriftResult.SIGNIFICANT -> 1;
            case FeatureDriftResult.MODERATE -> 2;
            default -> 3;
        };
    }

    private static double[] shares(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        double[] s = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            s[i] = total == 0 ? 0 : (double) counts[i] / total;
        }
        return s;
    }

    private static String fmt(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String pct(double v) {
        return String.format(Locale.ROOT, "%.1f%%", v * 100);
    }

    /** JSON that can sit inside a script element: no '<', so no '</script>'. */
    private static String safeJson(Object value) {
        try {
            return JSON.writeValueAsString(value).replace("<", "\\u003c");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String chartJs() {
        ClassLoader loader = MonitoringReport.class.getClassLoader();
        Properties pom = new Properties();
        try (InputStream in = loader.getResourceAsStream("META-INF/maven/org.webjars.npm/chart.js/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("the Chart.js webjar (org.webjars.npm:chart.js) is not on the classpath");
            }
            pom.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String path = "META-INF/resources/webjars/chart.js/" + pom.getProperty("version") + "/dist/chart.umd.min.js";
        try (InputStream in = loader.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("the Chart.js webjar lacks " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("</script", "<\\/script");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
