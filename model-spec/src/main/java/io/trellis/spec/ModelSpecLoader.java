package io.trellis.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a model spec from YAML (JSON is YAML too) and validates it, collecting every problem
 * with its path ({@code features.numeric[2]}) so one error message lists all of them.
 * Checks that need the data (does the column exist, is the label binary) run later, against
 * the table's schema, before any Spark job.
 */
public final class ModelSpecLoader {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    public static final List<String> DEFAULT_ENVIRONMENTS = List.of("dev", "staging", "production");

    private final List<String> problems = new ArrayList<>();

    private ModelSpecLoader() {}

    public static ModelSpec load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TrellisException(ErrorCode.INVALID_MODEL_SPEC,
                    "cannot read model spec " + file + ": " + e.getMessage()
                            + ". Check the path and that the file is readable.", e);
        }
        return parse(text, file.toString());
    }

    public static ModelSpec parse(String yaml) {
        return parse(yaml, "<inline>");
    }

    public static ModelSpec parse(String yaml, String origin) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new TrellisException(ErrorCode.INVALID_MODEL_SPEC,
                    "model spec " + origin + " is not valid YAML: " + e.getOriginalMessage()
                            + location(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new TrellisException(ErrorCode.INVALID_MODEL_SPEC,
                    "model spec " + origin + " must be a YAML mapping with at least name, source, label, features and algorithm");
        }
        ModelSpecLoader loader = new ModelSpecLoader();
        ModelSpec spec = loader.read((ObjectNode) root);
        if (!loader.problems.isEmpty()) {
            String name = root.path("name").isTextual() ? "'" + root.path("name").asText() + "' " : "";
            throw new TrellisException(ErrorCode.INVALID_MODEL_SPEC,
                    "model spec " + name + "(" + origin + ") is invalid:\n  - " + String.join("\n  - ", loader.problems));
        }
        return spec;
    }

    /** The SHA-256 of a spec's text, recorded with every run so a version names the exact spec that made it. */
    public static String sha256(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }

    private ModelSpec read(ObjectNode root) {
        known(root, "", "name", "description", "source", "label", "features", "algorithm", "split",
                "evaluation", "gates", "quality", "environments", "promotion", "scoring", "monitoring", "budget",
                "resources");
        String name = text(root, "", "name", true);
        if (name != null && !NAME.matcher(name).matches()) {
            problems.add("name: '" + name + "' must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit");
        }
        String description = text(root, "", "description", false);

        ObjectNode src = object(root, "", "source", true);
        String table = null;
        String key = null;
        if (src != null) {
            known(src, "source.", "table", "keyColumn");
            table = text(src, "source.", "table", true);
            key = column(src, "source.", "keyColumn", false);
        }
        String label = column(root, "", "label", true);

        List<String> numeric = List.of();
        List<String> categorical = List.of();
        ObjectNode feats = object(root, "", "features", true);
        if (feats != null) {
            known(feats, "features.", "numeric", "categorical");
            numeric = columns(feats, "features.", "numeric");
            categorical = columns(feats, "features.", "categorical");
            if (numeric.isEmpty() && categorical.isEmpty()) {
                problems.add("features: declare at least one numeric or categorical feature column");
            }
            Set<String> seen = new LinkedHashSet<>();
            for (String c : concat(numeric, categorical)) {
                if (!seen.add(c)) {
                    problems.add("features: column '" + c + "' is listed more than once");
                }
                if (c.equals(label)) {
                    problems.add("features: the label column '" + c + "' cannot also be a feature (that would leak the answer)");
                }
                if (c.equals(key)) {
                    problems.add("features: the key column '" + c + "' cannot also be a feature");
                }
            }
        }

        ModelSpec.Algorithm algorithm = readAlgorithm(object(root, "", "algorithm", true));
        ModelSpec.Split split = readSplit(object(root, "", "split", false));
        ModelSpec.Evaluation evaluation = readEvaluation(object(root, "", "evaluation", false));
        ModelSpec.Gates gates = readGates(object(root, "", "gates", false), "gates.");
        ModelSpec.Quality quality = readQuality(object(root, "", "quality", false));
        List<String> environments = readEnvironments(root);
        ModelSpec.Promotion promotion = readPromotion(object(root, "", "promotion", false), environments);
        ModelSpec.Scoring scoring = readScoring(object(root, "", "scoring", false));
        ModelSpec.Monitoring monitoring = readMonitoring(object(root, "", "monitoring", false), environments);
        ModelSpec.Budget budget = readBudget(object(root, "", "budget", false));
        ModelSpec.Resources resources = readResources(object(root, "", "resources", false));

        if (!problems.isEmpty()) {
            return null;
        }
        return new ModelSpec(name, description, new ModelSpec.Source(table, key), label,
                new ModelSpec.Features(numeric, categorical), algorithm, split, evaluation, gates, quality, environments,
                promotion, scoring, monitoring, budget, resources);
    }

    /** Spark's memory sizes with a unit: {@code 512m}, {@code 2g}, {@code 1536mb}; a bare number is refused as ambiguous. */
    private static final Pattern MEMORY = Pattern.compile("[1-9][0-9]*[kmgt]b?", Pattern.CASE_INSENSITIVE);

    private ModelSpec.Resources readResources(ObjectNode node) {
        if (node == null) {
            return null;
        }
        known(node, "resources.", "executorMemory", "executorCores", "executorInstances", "driverMemory", "steps");
        Map<String, ModelSpec.Resources> steps = null;
        ObjectNode stepsNode = object(node, "resources.", "steps", false);
        if (stepsNode != null) {
            steps = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = stepsNode.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String path = "resources.steps." + e.getKey();
                if (!ModelSpec.Resources.STEPS.contains(e.getKey())) {
                    problems.add(path + ": unknown step; the retrain's Spark steps are " + String.join(", ", ModelSpec.Resources.STEPS));
                    continue;
                }
                ObjectNode step = object(stepsNode, "resources.steps.", e.getKey(), true);
                if (step != null) {
                    known(step, path + ".", "executorMemory", "executorCores", "executorInstances", "driverMemory");
                    steps.put(e.getKey(), jobResources(step, path + ".", null));
                }
            }
            steps = Map.copyOf(steps);
        }
        return jobResources(node, "resources.", steps);
    }

    private ModelSpec.Resources jobResources(ObjectNode node, String path, Map<String, ModelSpec.Resources> steps) {
        return new ModelSpec.Resources(memory(node, path, "executorMemory"), count(node, path, "executorCores"),
                count(node, path, "executorInstances"), memory(node, path, "driverMemory"), steps);
    }

    private String memory(ObjectNode node, String path, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual() || !MEMORY.matcher(v.asText().trim()).matches()) {
            problems.add(path + field + ": " + describe(v) + " is not a memory size; write a whole number and a unit"
                    + " (k, m, g or t), e.g. 512m or 2g");
            return null;
        }
        return v.asText().trim().toLowerCase(java.util.Locale.ROOT);
    }

    private Integer count(ObjectNode node, String path, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > Integer.MAX_VALUE) {
            problems.add(path + field + ": must be a whole number of at least 1, got " + describe(v));
            return null;
        }
        return v.asInt();
    }

    private ModelSpec.Budget readBudget(ObjectNode node) {
        if (node == null) {
            return null;
        }
        known(node, "budget.", "perRun", "perMonth", "onExceed", "hardLimitPerRun");
        Double perRun = amount(node, "perRun");
        Double perMonth = amount(node, "perMonth");
        Double hard = amount(node, "hardLimitPerRun");
        if (!node.has("perRun") && !node.has("perMonth") && !node.has("hardLimitPerRun")) {
            problems.add("budget: declare perRun, perMonth or hardLimitPerRun (amounts in the price sheet's currency)");
        }
        if (perRun != null && perMonth != null && perRun > perMonth) {
            problems.add("budget.perRun: " + fmt(perRun) + " is more than budget.perMonth " + fmt(perMonth) + "; one run could never fit");
        }
        if (hard != null && perRun != null && hard < perRun) {
            problems.add("budget.hardLimitPerRun: " + fmt(hard) + " is below budget.perRun " + fmt(perRun)
                    + "; a run within its budget would be cancelled");
        }
        ModelSpec.BudgetPolicy policy = ModelSpec.BudgetPolicy.APPROVAL;
        String p = text(node, "budget.", "onExceed", false);
        if (p != null) {
            switch (p.toLowerCase(java.util.Locale.ROOT)) {
                case "approval" -> policy = ModelSpec.BudgetPolicy.APPROVAL;
                case "fail" -> policy = ModelSpec.BudgetPolicy.FAIL;
                default -> problems.add("budget.onExceed: '" + p + "' is not a policy; write approval (wait for an approver) or fail");
            }
        }
        return new ModelSpec.Budget(perRun, perMonth, policy, hard);
    }

    private Double amount(ObjectNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
            problems.add("budget." + field + ": must be an amount greater than 0, got " + describe(v));
            return null;
        }
        return v.asDouble();
    }

    private ModelSpec.Algorithm readAlgorithm(ObjectNode node) {
        if (node == null) {
            return null;
        }
        known(node, "algorithm.", "type", "hyperparameters");
        String typeName = text(node, "algorithm.", "type", true);
        if (typeName == null) {
            return null;
        }
        AlgorithmType type = AlgorithmType.fromKey(typeName).orElse(null);
        if (type == null) {
            problems.add("algorithm.type: unknown algorithm '" + typeName + "'; supported: " + AlgorithmType.knownKeys());
            return null;
        }
        Map<String, Double> hp = new LinkedHashMap<>();
        ObjectNode params = object(node, "algorithm.", "hyperparameters", false);
        if (params != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String path = "algorithm.hyperparameters." + e.getKey();
                AlgorithmType.Param p = type.params().get(e.getKey());
                if (p == null) {
                    problems.add(path + ": unknown hyperparameter for " + type.key() + "; known: " + String.join(", ", type.params().keySet()));
                    continue;
                }
                if (!e.getValue().isNumber()) {
                    problems.add(path + ": must be a number, got " + describe(e.getValue()));
                    continue;
                }
                double v = e.getValue().asDouble();
                if (p.integer() && v != Math.rint(v)) {
                    problems.add(path + ": must be a whole number, got " + e.getValue().asText());
                } else if (v < p.min() || v > p.max()) {
                    problems.add(path + ": " + e.getValue().asText() + " is out of range [" + fmt(p.min()) + ", " + fmt(p.max()) + "]");
                } else {
                    hp.put(e.getKey(), v);
                }
            }
        }
        return new ModelSpec.Algorithm(type, Map.copyOf(hp));
    }

    private ModelSpec.Split readSplit(ObjectNode node) {
        double holdout = 0.2;
        long seed = 42;
        if (node != null) {
            known(node, "split.", "holdoutFraction", "seed");
            holdout = number(node, "split.", "holdoutFraction", holdout);
            if (holdout <= 0 || holdout > 0.9) {
                problems.add("split.holdoutFraction: " + holdout + " must be greater than 0 and at most 0.9");
            }
            double s = number(node, "split.", "seed", seed);
            if (s != Math.rint(s)) {
                problems.add("split.seed: must be a whole number");
            }
            seed = (long) s;
        }
        return new ModelSpec.Split(holdout, seed);
    }

    private ModelSpec.Evaluation readEvaluation(ObjectNode node) {
        Metric metric = Metric.AUC;
        double threshold = 0.5;
        if (node != null) {
            known(node, "evaluation.", "metric", "threshold");
            String m = text(node, "evaluation.", "metric", false);
            if (m != null) {
                metric = metric(m, "evaluation.metric");
            }
            threshold = number(node, "evaluation.", "threshold", threshold);
            if (threshold <= 0 || threshold >= 1) {
                problems.add("evaluation.threshold: " + threshold + " must be strictly between 0 and 1");
            }
        }
        return new ModelSpec.Evaluation(metric, threshold);
    }

    private ModelSpec.Gates readGates(ObjectNode node, String path) {
        Map<Metric, Double> minimums = new LinkedHashMap<>();
        Map<Metric, Double> maximums = new LinkedHashMap<>();
        double minImprovement = 0.0;
        if (node != null) {
            known(node, path, "minimums", "maximums", "minImprovementOverChampion");
            metricBounds(object(node, path, "minimums", false), path + "minimums", minimums);
            metricBounds(object(node, path, "maximums", false), path + "maximums", maximums);
            minImprovement = number(node, path, "minImprovementOverChampion", 0.0);
            if (minImprovement < -1 || minImprovement > 1) {
                problems.add(path + "minImprovementOverChampion: " + minImprovement + " must be between -1 and 1");
            }
        }
        return new ModelSpec.Gates(Map.copyOf(minimums), Map.copyOf(maximums), minImprovement);
    }

    private void metricBounds(ObjectNode node, String path, Map<Metric, Double> into) {
        if (node == null) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Metric m = metric(e.getKey(), path + "." + e.getKey());
            if (!e.getValue().isNumber()) {
                problems.add(path + "." + e.getKey() + ": must be a number, got " + describe(e.getValue()));
            } else if (m != null) {
                into.put(m, e.getValue().asDouble());
            }
        }
    }

    private ModelSpec.Quality readQuality(ObjectNode node) {
        long minRows = 1;
        List<String> required = List.of();
        double defaultNull = 1.0;
        Map<String, Double> nullRates = new LinkedHashMap<>();
        Map<String, ModelSpec.Range> ranges = new LinkedHashMap<>();
        if (node != null) {
            known(node, "quality.", "minRows", "requiredColumns", "maxNullRate", "ranges");
            double mr = number(node, "quality.", "minRows", 1);
            if (mr < 1 || mr != Math.rint(mr)) {
                problems.add("quality.minRows: must be a whole number of at least 1, got " + node.get("minRows").asText());
            }
            minRows = (long) mr;
            required = columns(node, "quality.", "requiredColumns");
            ObjectNode nr = object(node, "quality.", "maxNullRate", false);
            if (nr != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = nr.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String path = "quality.maxNullRate." + e.getKey();
                    if (!e.getValue().isNumber() || e.getValue().asDouble() < 0 || e.getValue().asDouble() > 1) {
                        problems.add(path + ": must be a fraction between 0 and 1, got " + describe(e.getValue()));
                    } else if (e.getKey().equals("default")) {
                        defaultNull = e.getValue().asDouble();
                    } else if (!COLUMN.matcher(e.getKey()).matches()) {
                        problems.add(path + ": '" + e.getKey() + "' is not a valid column name");
                    } else {
                        nullRates.put(e.getKey(), e.getValue().asDouble());
                    }
                }
            }
            ObjectNode rg = object(node, "quality.", "ranges", false);
            if (rg != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = rg.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String path = "quality.ranges." + e.getKey() + ".";
                    if (!e.getValue().isObject()) {
                        problems.add("quality.ranges." + e.getKey() + ": must be a mapping with min and/or max");
                        continue;
                    }
                    ObjectNode r = (ObjectNode) e.getValue();
                    known(r, path, "min", "max");
                    Double min = r.has("min") ? number(r, path, "min", Double.NaN) : null;
                    Double max = r.has("max") ? number(r, path, "max", Double.NaN) : null;
                    if (min == null && max == null) {
                        problems.add("quality.ranges." + e.getKey() + ": give min, max or both");
                    } else if (min != null && max != null && min > max) {
                        problems.add("quality.ranges." + e.getKey() + ": min " + fmt(min) + " is greater than max " + fmt(max));
                    } else {
                        ranges.put(e.getKey(), new ModelSpec.Range(min, max));
                    }
                }
            }
        }
        return new ModelSpec.Quality(minRows, required, defaultNull, Map.copyOf(nullRates), Map.copyOf(ranges));
    }

    private List<String> readEnvironments(ObjectNode root) {
        if (!root.has("environments")) {
            return DEFAULT_ENVIRONMENTS;
        }
        JsonNode node = root.get("environments");
        if (!node.isArray() || node.isEmpty()) {
            problems.add("environments: must be a non-empty list of environment names, e.g. [dev, staging, production]");
            return DEFAULT_ENVIRONMENTS;
        }
        List<String> envs = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode e = node.get(i);
            if (!e.isTextual() || !NAME.matcher(e.asText()).matches()) {
                problems.add("environments[" + i + "]: must be a lowercase name, got " + describe(e));
            } else if (envs.contains(e.asText())) {
                problems.add("environments[" + i + "]: '" + e.asText() + "' is listed twice");
            } else {
                envs.add(e.asText());
            }
        }
        if (!envs.isEmpty() && !envs.get(0).equals("dev")) {
            problems.add("environments: the first environment must be 'dev', where new versions land as candidates");
        }
        return List.copyOf(envs);
    }

    static final long DEFAULT_APPROVAL_TIMEOUT_SECONDS = 7 * 24 * 3600;
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*([smhd])");

    private ModelSpec.Promotion readPromotion(ObjectNode node, List<String> environments) {
        List<String> approval = environments.size() > 1 ? List.of(environments.get(environments.size() - 1)) : List.of();
        List<String> shadow = environments.size() > 2 ? List.copyOf(environments.subList(1, environments.size() - 1)) : List.of();
        long timeout = DEFAULT_APPROVAL_TIMEOUT_SECONDS;
        Map<String, ModelSpec.Gates> stageGates = new LinkedHashMap<>();
        if (node != null) {
            known(node, "promotion.", "approvalRequiredIn", "approvalTimeout", "shadowIn", "stageGates");
            ObjectNode perStage = object(node, "promotion.", "stageGates", false);
            if (perStage != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = perStage.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!environments.contains(e.getKey()) || environments.indexOf(e.getKey()) == 0) {
                        problems.add("promotion.stageGates." + e.getKey() + ": not an environment a version is promoted to; one of "
                                + environments.subList(Math.min(1, environments.size()), environments.size()));
                    } else if (!e.getValue().isObject()) {
                        problems.add("promotion.stageGates." + e.getKey() + ": must be a mapping like gates");
                    } else {
                        stageGates.put(e.getKey(), readGates((ObjectNode) e.getValue(), "promotion.stageGates." + e.getKey() + "."));
                    }
                }
            }
            if (node.has("approvalRequiredIn")) {
                approval = stageNames(node, "approvalRequiredIn", environments);
            }
            if (node.has("shadowIn")) {
                shadow = stageNames(node, "shadowIn", environments);
            }
            String t = text(node, "promotion.", "approvalTimeout", false);
            if (t != null) {
                java.util.regex.Matcher m = DURATION.matcher(t.trim().toLowerCase(java.util.Locale.ROOT));
                if (!m.matches()) {
                    problems.add("promotion.approvalTimeout: '" + t + "' is not a duration; write e.g. 90m, 48h or 7d");
                } else {
                    long n = Long.parseLong(m.group(1));
                    timeout = n * switch (m.group(2)) {
                        case "s" -> 1L;
                        case "m" -> 60L;
                        case "h" -> 3600L;
                        default -> 86400L;
                    };
                    if (timeout < 60 || timeout > 365L * 86400) {
                        problems.add("promotion.approvalTimeout: " + t + " must be between 1 minute and 365 days");
                    }
                }
            }
        }
        return new ModelSpec.Promotion(approval, timeout, shadow, Map.copyOf(stageGates));
    }

    private List<String> stageNames(ObjectNode node, String field, List<String> environments) {
        List<String> names = columns(node, "promotion.", field);
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            if (!environments.contains(n)) {
                problems.add("promotion." + field + "[" + i + "]: '" + n + "' is not one of the environments " + environments);
            } else if (environments.indexOf(n) == 0) {
                problems.add("promotion." + field + "[" + i + "]: '" + n + "' is the first environment, where versions land"
                        + " without a promotion");
            }
        }
        return names;
    }

    private ModelSpec.Scoring readScoring(ObjectNode node) {
        if (node == null) {
            return new ModelSpec.Scoring(null, 0);
        }
        known(node, "scoring.", "timeColumn", "windowDays");
        String column = column(node, "scoring.", "timeColumn", false);
        double days = number(node, "scoring.", "windowDays", 0);
        if (days < 0 || days != Math.rint(days)) {
            problems.add("scoring.windowDays: must be a whole number of days (0 = the whole table), got " + node.get("windowDays").asText());
        } else if (days > 0 && column == null) {
            problems.add("scoring.windowDays: needs scoring.timeColumn, the column the window is measured on");
        }
        return new ModelSpec.Scoring(column, (int) days);
    }

    static final double DEFAULT_PSI_MODERATE = 0.1;
    static final double DEFAULT_PSI_SIGNIFICANT = 0.2;
    static final long DEFAULT_RETRAIN_COOLDOWN_SECONDS = 24 * 3600;
    private static final Pattern CRON = Pattern.compile("(\\S+\\s+){4}\\S+|@(hourly|daily|weekly|monthly|yearly)");

    private ModelSpec.Monitoring readMonitoring(ObjectNode node, List<String> environments) {
        String environment = environments.isEmpty() ? null : environments.get(environments.size() - 1);
        double moderate = DEFAULT_PSI_MODERATE;
        double significant = DEFAULT_PSI_SIGNIFICANT;
        int minFeatures = 1;
        double predictionPsi = DEFAULT_PSI_SIGNIFICANT;
        double aucDrop = 0.05;
        long cooldown = DEFAULT_RETRAIN_COOLDOWN_SECONDS;
        String schedule = null;
        if (node != null) {
            known(node, "monitoring.", "environment", "psiModerate", "psiSignificant", "minSignificantFeatures",
                    "predictionPsi", "aucDropMargin", "retrainCooldown", "schedule");
            String env = text(node, "monitoring.", "environment", false);
            if (env != null) {
                if (!environments.contains(env)) {
                    problems.add("monitoring.environment: '" + env + "' is not one of the environments " + environments);
                } else {
                    environment = env;
                }
            }
            moderate = number(node, "monitoring.", "psiModerate", moderate);
            significant = number(node, "monitoring.", "psiSignificant", significant);
            if (moderate <= 0 || significant <= 0) {
                problems.add("monitoring: psiModerate and psiSignificant must be greater than 0");
            } else if (moderate > significant) {
                problems.add("monitoring.psiModerate: " + moderate + " must not exceed psiSignificant " + significant);
            }
            double k = number(node, "monitoring.", "minSignificantFeatures", minFeatures);
            if (k < 1 || k != Math.rint(k)) {
                problems.add("monitoring.minSignificantFeatures: must be a whole number of at least 1, got " + node.get("minSignificantFeatures").asText());
            } else {
                minFeatures = (int) k;
            }
            predictionPsi = number(node, "monitoring.", "predictionPsi", predictionPsi);
            if (predictionPsi <= 0) {
                problems.add("monitoring.predictionPsi: must be greater than 0, got " + predictionPsi);
            }
            aucDrop = number(node, "monitoring.", "aucDropMargin", aucDrop);
            if (aucDrop < 0 || aucDrop > 1) {
                problems.add("monitoring.aucDropMargin: must be between 0 and 1, got " + aucDrop);
            }
            String c = text(node, "monitoring.", "retrainCooldown", false);
            if (c != null) {
                java.util.regex.Matcher m = DURATION.matcher(c.trim().toLowerCase(java.util.Locale.ROOT));
                if (!m.matches()) {
                    problems.add("monitoring.retrainCooldown: '" + c + "' is not a duration; write e.g. 90m, 12h or 1d");
                } else {
                    cooldown = Long.parseLong(m.group(1)) * switch (m.group(2)) {
                        case "s" -> 1L;
                        case "m" -> 60L;
                        case "h" -> 3600L;
                        default -> 86400L;
                    };
                }
            }
            schedule = text(node, "monitoring.", "schedule", false);
            if (schedule != null && !CRON.matcher(schedule).matches()) {
                problems.add("monitoring.schedule: '" + schedule + "' is not a cron expression; write five fields such as"
                        + " '0 6 * * *' (06:00 UTC daily) or @daily");
                schedule = null;
            }
        }
        return new ModelSpec.Monitoring(environment, moderate, significant, minFeatures, predictionPsi, aucDrop, cooldown, schedule);
    }

    private Metric metric(String key, String path) {
        Metric m = Metric.fromKey(key).orElse(null);
        if (m == null) {
            StringBuilder known = new StringBuilder();
            for (Metric x : Metric.values()) {
                known.append(known.length() == 0 ? "" : ", ").append(x.key());
            }
            problems.add(path + ": unknown metric '" + key + "'; known: " + known);
        }
        return m;
    }

    private void known(ObjectNode node, String path, String... fields) {
        Set<String> allowed = Set.of(fields);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                problems.add(path + f + ": unknown field; known fields here: " + String.join(", ", fields));
            }
        }
    }

    private String text(ObjectNode node, String path, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                problems.add(path + field + ": is required");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            problems.add(path + field + ": must be a non-empty string, got " + describe(v));
            return null;
        }
        return v.asText().trim();
    }

    private String column(ObjectNode node, String path, String field, boolean required) {
        String c = text(node, path, field, required);
        if (c != null && !COLUMN.matcher(c).matches()) {
            problems.add(path + field + ": '" + c + "' is not a valid column name (letters, digits, '_')");
            return null;
        }
        return c;
    }

    private List<String> columns(ObjectNode node, String path, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            problems.add(path + field + ": must be a list of column names, got " + describe(v));
            return List.of();
        }
        List<String> cols = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode c = v.get(i);
            if (!c.isTextual() || !COLUMN.matcher(c.asText()).matches()) {
                problems.add(path + field + "[" + i + "]: must be a column name (letters, digits, '_'), got " + describe(c));
            } else {
                cols.add(c.asText());
            }
        }
        return List.copyOf(cols);
    }

    private ObjectNode object(ObjectNode node, String path, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                problems.add(path + field + ": is required");
            }
            return null;
        }
        if (!v.isObject()) {
            problems.add(path + field + ": must be a mapping, got " + describe(v));
            return null;
        }
        return (ObjectNode) v;
    }

    private double number(ObjectNode node, String path, String field, double dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            problems.add(path + field + ": must be a number, got " + describe(v));
            return dflt;
        }
        return v.asDouble();
    }

    private static String describe(JsonNode v) {
        if (v.isTextual()) {
            return "the string '" + v.asText() + "'";
        }
        if (v.isArray()) {
            return "a list";
        }
        if (v.isObject()) {
            return "a mapping";
        }
        return v.getNodeType().name().toLowerCase() + " " + v.asText();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
