package io.trellis.spark.train;

import io.trellis.spark.features.FeatureTable;
import io.trellis.spec.AlgorithmType;
import io.trellis.spec.ModelSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.GBTClassifier;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;

/**
 * The MLlib pipeline for a spec over its feature table: Imputer (numeric, mean) → StringIndexer and
 * OneHotEncoder (categorical, unseen values kept) → VectorAssembler → StandardScaler (logistic regression
 * only) → the classifier with the spec's hyperparameters. Each stage reads the previous stage's output column.
 */
public final class TrainingPipeline {
    public static final String FEATURES = "features";
    public static final String PROBABILITY = "probability";
    public static final String PREDICTION = "prediction";
    private static final String ASSEMBLED = "features_assembled";

    private TrainingPipeline() {}

    public static Pipeline of(ModelSpec spec) {
        List<PipelineStage> stages = new ArrayList<>();
        List<String> assembled = new ArrayList<>();
        List<String> numeric = spec.features().numeric();
        if (!numeric.isEmpty()) {
            String[] imputed = numeric.stream().map(c -> c + "__imputed").toArray(String[]::new);
            stages.add(new Imputer().setStrategy("mean").setInputCols(numeric.toArray(String[]::new)).setOutputCols(imputed));
            assembled.addAll(List.of(imputed));
        }
        List<String> categorical = spec.features().categorical();
        if (!categorical.isEmpty()) {
            String[] indexed = categorical.stream().map(c -> c + "__index").toArray(String[]::new);
            String[] encoded = categorical.stream().map(c -> c + "__onehot").toArray(String[]::new);
            stages.add(new StringIndexer().setInputCols(categorical.toArray(String[]::new)).setOutputCols(indexed)
                    .setHandleInvalid("keep"));
            stages.add(new OneHotEncoder().setInputCols(indexed).setOutputCols(encoded).setHandleInvalid("keep"));
            assembled.addAll(List.of(encoded));
        }
        boolean logistic = spec.algorithm().type() == AlgorithmType.LOGISTIC_REGRESSION;
        stages.add(new VectorAssembler().setInputCols(assembled.toArray(String[]::new)).setOutputCol(logistic ? ASSEMBLED : FEATURES));
        if (logistic) {
            stages.add(new StandardScaler().setInputCol(ASSEMBLED).setOutputCol(FEATURES));
        }
        stages.add(classifier(spec));
        return new Pipeline().setStages(stages.toArray(PipelineStage[]::new));
    }

    private static PipelineStage classifier(ModelSpec spec) {
        ModelSpec.Algorithm a = spec.algorithm();
        return switch (a.type()) {
            case LOGISTIC_REGRESSION -> new LogisticRegression()
                    .setFeaturesCol(FEATURES).setLabelCol(FeatureTable.LABEL)
                    .setMaxIter((int) a.param("maxIter"))
                    .setRegParam(a.param("regParam"))
                    .setElasticNetParam(a.param("elasticNetParam"))
                    .setTol(a.param("tol"));
            case GRADIENT_BOOSTED_TREES -> new GBTClassifier()
                    .setFeaturesCol(FEATURES).setLabelCol(FeatureTable.LABEL)
                    .setMaxIter((int) a.param("maxIter"))
                    .setMaxDepth((int) a.param("maxDepth"))
                    .setStepSize(a.param("stepSize"))
                    .setSubsamplingRate(a.param("subsamplingRate"))
                    .setMaxBins((int) a.param("maxBins"))
                    .setMinInstancesPerNode((int) a.param("minInstancesPerNode"))
                    .setSeed(spec.split().seed());
        };
    }

    /** Every hyperparameter of the spec's algorithm as used (defaults filled in), plus the seed. */
    public static Map<String, String> effectiveParams(ModelSpec spec) {
        Map<String, String> params = new LinkedHashMap<>();
        for (AlgorithmType.Param p : spec.algorithm().type().params().values()) {
            double v = spec.algorithm().param(p.name());
            params.put(p.name(), p.integer() ? Long.toString((long) v) : Double.toString(v));
        }
        params.put("seed", Long.toString(spec.split().seed()));
        return params;
    }
}
