package io.trellis.spec;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** The Spark MLlib classifiers Trellis trains, with each hyperparameter's default and allowed range. */
public enum AlgorithmType {
    LOGISTIC_REGRESSION("logistic_regression", params(
            new Param("maxIter", 100, 1, 10_000, true),
            new Param("regParam", 0.0, 0.0, 1e6, false),
            new Param("elasticNetParam", 0.0, 0.0, 1.0, false),
            new Param("tol", 1e-6, 0.0, 1.0, false))),
    GRADIENT_BOOSTED_TREES("gradient_boosted_trees", params(
            new Param("maxIter", 20, 1, 1_000, true),
            new Param("maxDepth", 5, 1, 30, true),
            new Param("stepSize", 0.1, 1e-6, 1.0, false),
            new Param("subsamplingRate", 1.0, 1e-6, 1.0, false),
            new Param("maxBins", 32, 2, 65_536, true),
            new Param("minInstancesPerNode", 1, 1, 1e9, true)));

    /** One hyperparameter: default, inclusive bounds, and whether it must be a whole number. */
    public record Param(String name, double defaultValue, double min, double max, boolean integer) {}

    private final String key;
    private final Map<String, Param> params;

    AlgorithmType(String key, Map<String, Param> params) {
        this.key = key;
        this.params = params;
    }

    private static Map<String, Param> params(Param... ps) {
        Map<String, Param> m = new LinkedHashMap<>();
        for (Param p : ps) {
            m.put(p.name(), p);
        }
        return m;
    }

    public String key() {
        return key;
    }

    public Map<String, Param> params() {
        return params;
    }

    public double defaultValue(String name) {
        Param p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no hyperparameter '" + name + "' for " + key);
        }
        return p.defaultValue();
    }

    public static Optional<AlgorithmType> fromKey(String key) {
        String k = key.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return Arrays.stream(values()).filter(a -> a.key.equals(k)).findFirst();
    }

    public static String knownKeys() {
        return Arrays.stream(values()).map(AlgorithmType::key).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return key;
    }
}
