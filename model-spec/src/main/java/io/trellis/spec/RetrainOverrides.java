package io.trellis.spec;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one retrain changes from its model's spec: a data window on the source table's time column
 * ({@code scoring.timeColumn}: rows with {@code from <= time < to}, either end open when null) and hyperparameters
 * that replace the spec's for this run only. Passed through Temporal as JSON, so the window ends are canonical
 * ISO-8601 instants (UTC) as text and the hyperparameters a sorted map; {@link #problems(ModelSpec)} checks them
 * against the model before anything starts, and the run records them, so a reproduction applies the same ones.
 */
public record RetrainOverrides(String from, String to, Map<String, Double> hyperparameters) {
    public RetrainOverrides {
        hyperparameters = hyperparameters == null ? Map.of() : Map.copyOf(new TreeMap<>(hyperparameters));
    }

    /** Overrides from user input: instants ({@code 2025-01-02T00:00:00Z}) or dates ({@code 2025-01-02}, midnight UTC). */
    public static RetrainOverrides of(String from, String to, Map<String, Double> hyperparameters) {
        return new RetrainOverrides(from == null ? null : parseInstant("from", from).toString(),
                to == null ? null : parseInstant("to", to).toString(), hyperparameters);
    }

    /** Parses a window end, or throws {@link ErrorCode#INVALID_REQUEST} naming the field and the accepted forms. */
    public static Instant parseInstant(String field, String text) {
        try {
            return Instant.parse(text.trim());
        } catch (DateTimeParseException notAnInstant) {
            try {
                return LocalDate.parse(text.trim()).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException notADate) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "'" + field + "' must be an ISO-8601 instant such as "
                        + "2025-01-02T00:00:00Z or a date such as 2025-01-02 (midnight UTC), was '" + clip(text) + "'.");
            }
        }
    }

    /** True when the run changes nothing (no window end, no hyperparameter): the spec applies as it is. */
    public boolean noOverrides() {
        return from == null && to == null && hyperparameters.isEmpty();
    }

    /** True when a window end is set: the run reads only the source rows in the window. */
    public boolean windowed() {
        return from != null || to != null;
    }

    public Instant fromInstant() {
        return from == null ? null : Instant.parse(from);
    }

    public Instant toInstant() {
        return to == null ? null : Instant.parse(to);
    }

    /**
     * Every reason these overrides do not fit {@code spec}, each naming the field: a window on a model without a
     * time column, a reversed or empty window, an unknown hyperparameter for the model's algorithm, a fraction
     * where a whole number is needed, a value out of range. Empty when they fit.
     */
    public List<String> problems(ModelSpec spec) {
        List<String> problems = new ArrayList<>();
        if (windowed()) {
            String column = spec.scoring() == null ? null : spec.scoring().timeColumn();
            if (column == null) {
                problems.add("window: model " + spec.name() + " declares no time column (scoring.timeColumn in its spec),"
                        + " so its data cannot be windowed; drop 'from'/'to' or add a time column to the spec");
            }
            if (from != null && to != null && !fromInstant().isBefore(toInstant())) {
                problems.add("window: 'from' (" + from + ") must be before 'to' (" + to + "); "
                        + (from.equals(to) ? "the window is empty" : "the window is reversed"));
            }
        }
        AlgorithmType type = spec.algorithm().type();
        for (Map.Entry<String, Double> e : new TreeMap<>(hyperparameters).entrySet()) {
            String path = "hyperparameters." + e.getKey();
            AlgorithmType.Param p = type.params().get(e.getKey());
            if (p == null) {
                problems.add(path + ": unknown hyperparameter for " + type.key() + " (the algorithm of " + spec.name()
                        + "); known: " + String.join(", ", type.params().keySet()));
                continue;
            }
            Double v = e.getValue();
            if (v == null || v.isNaN() || v.isInfinite()) {
                problems.add(path + ": must be a finite number, got " + v);
            } else if (p.integer() && v != Math.rint(v)) {
                problems.add(path + ": must be a whole number, got " + v);
            } else if (v < p.min() || v > p.max()) {
                problems.add(path + ": " + v + " is out of range [" + p.min() + ", " + p.max() + "]");
            }
        }
        return problems;
    }

    /** Throws {@link ErrorCode#INVALID_REQUEST} listing every problem, when there is one. */
    public RetrainOverrides requireFits(ModelSpec spec) {
        List<String> problems = problems(spec);
        if (!problems.isEmpty()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The retrain overrides do not fit model " + spec.name() + ": "
                    + String.join("; ", problems) + ".");
        }
        return this;
    }

    /** The spec this run trains with: {@code spec} with these hyperparameters replacing its own (the window is not part of it). */
    public ModelSpec applyTo(ModelSpec spec) {
        if (hyperparameters.isEmpty()) {
            return spec;
        }
        Map<String, Double> merged = new LinkedHashMap<>(spec.algorithm().hyperparameters());
        merged.putAll(hyperparameters);
        return new ModelSpec(spec.name(), spec.description(), spec.source(), spec.label(), spec.features(),
                new ModelSpec.Algorithm(spec.algorithm().type(), Map.copyOf(merged)), spec.split(), spec.evaluation(), spec.gates(),
                spec.quality(), spec.environments(), spec.promotion(), spec.scoring(), spec.monitoring(), spec.budget(),
                spec.resources());
    }

    /** The overrides as plain JSON-able values, for the run's record and its audit row. */
    public Map<String, Object> describe() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("from", from);
        out.put("to", to);
        out.put("hyperparameters", new TreeMap<>(hyperparameters));
        return out;
    }

    /** Reads what {@link #describe()} wrote; null for null (a run without overrides). */
    @SuppressWarnings("unchecked")
    public static RetrainOverrides fromDescription(Map<String, Object> described) {
        if (described == null) {
            return null;
        }
        Map<String, Double> hp = new TreeMap<>();
        Object raw = described.get("hyperparameters");
        if (raw instanceof Map<?, ?> m) {
            ((Map<String, Object>) m).forEach((k, v) -> hp.put(k, ((Number) v).doubleValue()));
        }
        return new RetrainOverrides((String) described.get("from"), (String) described.get("to"), hp);
    }

    private static String clip(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
    }
}
