package io.trellis.spark.features;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.trellis.spark.DataWindows;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobMain;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.RetrainOverrides;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Builds a model's feature table from the source pinned at one Delta version: the key (if any), {@code label}
 * as DOUBLE, every feature (categorical nulls become {@value FeatureTable#MISSING}; numeric features are
 * DOUBLE with nulls kept for the training pipeline's Imputer) and a deterministic {@code split}.
 *
 * <p>The overwrite carries {@code txnAppId = trellis-features-<runKey>}, {@code txnVersion = 1} and
 * {@code userMetadata = <runKey>}: a retry with the same run key commits nothing and returns the version the
 * first attempt committed.
 */
public final class FeatureJob {
    public static final String TXN_APP_PREFIX = "trellis-features-";
    private static final long SPLIT_BUCKETS = 1_000_000L;

    private FeatureJob() {}

    public static FeatureReport run(SparkSession spark, ModelSpec spec, DatasetVersion source, String featureTablePath, String runKey) {
        return run(spark, spec, source, featureTablePath, runKey, null);
    }

    /** As above, from the rows of the retrain's data window only when {@code overrides} has one. */
    public static FeatureReport run(SparkSession spark, ModelSpec spec, DatasetVersion source, String featureTablePath, String runKey,
                                    RetrainOverrides overrides) {
        OptionalLong earlier = DeltaTables.versionWithUserMetadata(spark, featureTablePath, runKey);
        if (earlier.isPresent()) {
            return report(spark, featureTablePath, earlier.getAsLong(), false);
        }
        DeltaTables.requireExists(spark, source.tablePath());
        features(spec, DataWindows.apply(DeltaTables.read(spark, source), spec, overrides)).write().format("delta").mode("overwrite")
                .option("overwriteSchema", "true")
                .option("txnAppId", TXN_APP_PREFIX + runKey)
                .option("txnVersion", 1L)
                .option("userMetadata", runKey)
                .save(featureTablePath);
        long version = DeltaTables.versionWithUserMetadata(spark, featureTablePath, runKey).orElseThrow(() ->
                new IllegalStateException("feature write for run " + runKey + " to " + featureTablePath
                        + " finished but no commit carries the run key"));
        return report(spark, featureTablePath, version, true);
    }

    /** The feature rows for a source snapshot (lazy). Rows without a label cannot be learned from and are dropped. */
    public static Dataset<Row> features(ModelSpec spec, Dataset<Row> source) {
        List<Column> cols = new ArrayList<>();
        String key = spec.source().keyColumn();
        if (key != null) {
            cols.add(col(key));
        }
        cols.add(col(spec.label()).cast("double").as(FeatureTable.LABEL));
        cols.addAll(featureColumns(spec));
        List<Column> hashed = new ArrayList<>();
        if (key != null) {
            hashed.add(col(key));
        } else {
            spec.features().all().forEach(c -> hashed.add(col(c)));
        }
        hashed.add(lit(spec.split().seed()));
        Column bucket = pmod(xxhash64(hashed.toArray(Column[]::new)), lit(SPLIT_BUCKETS));
        cols.add(when(bucket.lt(Math.round(spec.split().holdoutFraction() * SPLIT_BUCKETS)), FeatureTable.HOLDOUT)
                .otherwise(FeatureTable.TRAIN).as(FeatureTable.SPLIT));
        return source.where(col(spec.label()).isNotNull()).select(cols.toArray(Column[]::new));
    }

    /**
     * The rows a saved model scores (lazy): the key (if any) and every feature prepared exactly as for training,
     * without label or split, keeping rows whose label is unknown (the ones worth predicting).
     */
    public static Dataset<Row> inferenceFeatures(ModelSpec spec, Dataset<Row> source) {
        List<Column> cols = new ArrayList<>();
        String key = spec.source().keyColumn();
        if (key != null) {
            cols.add(col(key));
        }
        cols.addAll(featureColumns(spec));
        return source.select(cols.toArray(Column[]::new));
    }

    /** Numeric features as DOUBLE (nulls kept for the pipeline's Imputer), categorical ones as STRING with nulls as {@value FeatureTable#MISSING}. */
    private static List<Column> featureColumns(ModelSpec spec) {
        List<Column> cols = new ArrayList<>();
        for (String c : spec.features().numeric()) {
            cols.add(col(c).cast("double").as(c));
        }
        for (String c : spec.features().categorical()) {
            cols.add(coalesce(col(c).cast("string"), lit(FeatureTable.MISSING)).as(c));
        }
        return cols;
    }

    private static FeatureReport report(SparkSession spark, String path, long version, boolean committed) {
        Row counts = DeltaTables.read(spark, new DatasetVersion(path, version))
                .agg(sum(when(col(FeatureTable.SPLIT).equalTo(FeatureTable.TRAIN), 1L).otherwise(0L)),
                        sum(when(col(FeatureTable.SPLIT).equalTo(FeatureTable.HOLDOUT), 1L).otherwise(0L)))
                .head();
        long train = counts.isNullAt(0) ? 0 : counts.getLong(0);
        long holdout = counts.isNullAt(1) ? 0 : counts.getLong(1);
        return new FeatureReport(path, version, train, holdout, committed);
    }

    /**
     * {@code --spec <yaml> (--table <path> | --lake <root>) --source-version N --features <path> --run-key K [--report <path>]}
     */
    public static void main(String[] args) {
        JobMain.run("features", args, Set.of("spec", "table", "lake", "source-version", "features", "run-key", "overrides"), (spark, a) -> {
            ModelSpec spec = JobMain.loadSpec(spark, a.require("spec"));
            DatasetVersion source = new DatasetVersion(JobMain.sourceTable(a, spec), a.requireLong("source-version"));
            return run(spark, spec, source, a.require("features"), a.require("run-key"), JobMain.loadOverrides(spark, a));
        });
    }
}
