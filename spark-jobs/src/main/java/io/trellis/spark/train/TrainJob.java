package io.trellis.spark.train;

import static org.apache.spark.sql.functions.col;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobMain;
import io.trellis.spark.features.FeatureTable;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Set;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/** Fits the spec's {@link TrainingPipeline} on the train split of a feature table version and saves the PipelineModel. */
public final class TrainJob {
    private TrainJob() {}

    public static TrainReport run(SparkSession spark, ModelSpec spec, DatasetVersion features, String modelPath) {
        long start = System.nanoTime();
        DeltaTables.requireExists(spark, features.tablePath());
        Dataset<Row> train = DeltaTables.read(spark, features)
                .where(col(FeatureTable.SPLIT).equalTo(FeatureTable.TRAIN))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long rows = train.count();
            if (rows == 0) {
                throw new TrellisException(ErrorCode.EMPTY_TABLE,
                        "the feature table " + features + " has no train rows; check split.holdoutFraction and the source data");
            }
            PipelineModel model = TrainingPipeline.of(spec).fit(train);
            try {
                model.write().overwrite().save(modelPath);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save the model to " + modelPath, e);
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new TrainReport(modelPath, spec.algorithm().type().key(), TrainingPipeline.effectiveParams(spec), rows, millis);
        } finally {
            train.unpersist();
        }
    }

    /** {@code --spec <yaml> --features <path> --features-version N --model <path> [--report <path>]} */
    public static void main(String[] args) {
        JobMain.run("train", args, Set.of("spec", "features", "features-version", "model"), (spark, a) -> run(spark,
                JobMain.loadSpec(spark, a.require("spec")),
                new DatasetVersion(a.require("features"), a.requireLong("features-version")),
                a.require("model")));
    }
}
