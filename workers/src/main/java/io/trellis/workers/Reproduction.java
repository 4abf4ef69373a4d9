package io.trellis.workers;

import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.LineageNode;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.UpstreamLineage;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.evaluate.EvaluationReport;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.features.FeatureReport;
import io.trellis.spark.train.TrainJob;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.RetrainOverrides;
import io.trellis.spec.TrellisException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Re-runs the training of a recorded model version from what its lineage pins: the spec with the recorded
 * hash (algorithm, hyperparameters, split seed) with the run's recorded overrides (data window, hyperparameters), the source table at the recorded Delta version (time travel),
 * then features, training and holdout evaluation exactly as the retrain did, into a scratch folder. Reports
 * whether the rebuilt feature rows equal the recorded feature table version and whether every recorded metric
 * is reproduced within {@link #TOLERANCE}, and audits the attempt as {@code model.reproduced}.
 *
 * <p>Tolerance: Trellis' pipelines are seeded and split by a hash of the key column, so on the same data the
 * same rows are trained and scored; MLlib's optimizers still sum floating-point partial results in an order
 * that can depend on partitioning and executor count, so metrics may differ in the last bits. A difference up
 * to 1e-9 (absolute) counts as reproduced; {@code exact} says whether every metric matched bit for bit.
 */
public final class Reproduction {
    /** Largest absolute difference per metric still counted as reproduced. */
    public static final double TOLERANCE = 1e-9;

    /** One recorded metric beside its reproduced value. */
    public record MetricComparison(String metric, double recorded, Double reproduced, double difference, boolean matches) {
    }

    /** What a reproduction found. {@code featuresIdentical} is null when the recorded feature version could not be read. */
    public record Result(String modelName, int version, DatasetVersion source, DatasetVersion recordedFeatures, long featureRows,
                         Boolean featuresIdentical, List<MetricComparison> metrics, boolean exact, boolean reproduced) {
    }

    private final MetadataStore metadata;
    private final SparkSession spark;
    private final Path scratchRoot;

    public Reproduction(MetadataStore metadata, SparkSession spark, Path scratchRoot) {
        this.metadata = metadata;
        this.spark = spark;
        this.scratchRoot = scratchRoot;
    }

    public Result run(String modelName, int version, String actor) {
        UpstreamLineage lineage = metadata.lineageQueries().upstream(modelName, version);
        LineageNode source = directInput(lineage, "source");
        LineageNode features = directInput(lineage, io.trellis.metadata.Registry.FEATURES_RELATION);
        String specSha = lineage.run().specSha256();
        String yaml = metadata.registry().specYaml(modelName, specSha).orElseThrow(() -> new TrellisException(ErrorCode.INVALID_STATE,
                modelName + " v" + version + " was trained with spec sha256 " + specSha + ", which is not in the spec history; it cannot be reproduced."));
        ModelSpec recordedSpec = ModelSpecLoader.parse(yaml, "registry:" + modelName + "@" + specSha);
        // The run's own overrides (data window, hyperparameters), applied exactly as the retrain applied them.
        RetrainOverrides overrides = RetrainOverrides.fromDescription(lineage.run().overrides());
        ModelSpec spec = overrides == null ? recordedSpec : overrides.applyTo(recordedSpec);
        DatasetVersion pinnedSource = new DatasetVersion(source.tablePath(), source.deltaVersion());
        DatasetVersion recordedFeatures = new DatasetVersion(features.tablePath(), features.deltaVersion());
        if (!DeltaTables.exists(spark, pinnedSource.tablePath())) {
            throw new TrellisException(ErrorCode.MISSING_TABLE, "The source table " + pinnedSource.tablePath() + " that trained " + modelName + " v"
                    + version + " no longer exists, so the training cannot be reproduced.");
        }

        Path scratch;
        try {
            Files.createDirectories(scratchRoot);
            scratch = Files.createTempDirectory(scratchRoot, "reproduce-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a scratch folder under " + scratchRoot, e);
        }
        try {
            String featureTable = scratch.resolve("features").toUri().toString();
            FeatureReport rebuilt = FeatureJob.run(spark, spec, pinnedSource, featureTable, "reproduce/" + modelName + "/v" + version,
                    overrides);
            DatasetVersion rebuiltFeatures = new DatasetVersion(rebuilt.tablePath(), rebuilt.version());
            Boolean identical = sameRows(rebuiltFeatures, recordedFeatures);
            String modelPath = scratch.resolve("model").toUri().toString();
            TrainJob.run(spark, spec, rebuiltFeatures, modelPath);
            EvaluationReport evaluation = EvaluateJob.run(spark, spec, rebuiltFeatures, modelPath, null);

            List<MetricComparison> comparisons = new ArrayList<>();
            boolean exact = true;
            boolean reproduced = true;
            for (Map.Entry<String, Double> recorded : lineage.version().metrics().entrySet()) {
                Double now = evaluation.candidate().get(recorded.getKey());
                double diff = now == null ? Double.NaN : Math.abs(now - recorded.getValue());
                boolean matches = now != null && diff <= TOLERANCE;
                exact &= now != null && now.doubleValue() == recorded.getValue().doubleValue();
                reproduced &= matches;
                comparisons.add(new MetricComparison(recorded.getKey(), recorded.getValue(), now, diff, matches));
            }
            reproduced &= !Boolean.FALSE.equals(identical);
            Result result = new Result(modelName, version, pinnedSource, recordedFeatures, rebuilt.trainRows() + rebuilt.holdoutRows(),
                    identical, comparisons, exact, reproduced);
            audit(result, actor);
            return result;
        } finally {
            deleteQuietly(scratch);
        }
    }

    private Boolean sameRows(DatasetVersion rebuilt, DatasetVersion recorded) {
        Dataset<Row> mine;
        Dataset<Row> theirs;
        try {
            mine = DeltaTables.read(spark, rebuilt);
            theirs = DeltaTables.read(spark, recorded);
            if (!java.util.Arrays.equals(mine.columns(), theirs.columns())) {
                return false;
            }
            return mine.exceptAll(theirs).isEmpty() && theirs.exceptAll(mine).isEmpty();
        } catch (RuntimeException e) {
            // vacuumed or deleted: the recorded feature version cannot be compared, the metrics still can
            return null;
        }
    }

    private void audit(Result r, String actor) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("source", r.source().tablePath());
        details.put("sourceVersion", r.source().version());
        details.put("featuresIdentical", r.featuresIdentical());
        details.put("exact", r.exact());
        details.put("tolerance", TOLERANCE);
        Map<String, Object> metrics = new LinkedHashMap<>();
        r.metrics().forEach(m -> metrics.put(m.metric(), Map.of("recorded", m.recorded(), "reproduced", m.reproduced() == null ? "missing" : m.reproduced())));
        details.put("metrics", metrics);
        metadata.registry().recordAudit(actor, "model.reproduced", r.reproduced() ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE, r.modelName(),
                r.version(), null, r.modelName() + " v" + r.version() + (r.reproduced() ? " reproduced" : " NOT reproduced") + " from "
                        + r.source() + (r.exact() ? " (metrics identical)" : ""), details);
    }

    private static LineageNode directInput(UpstreamLineage lineage, String relation) {
        return lineage.upstream().stream()
                .filter(n -> n.kind().equals(LineageNode.DATASET_VERSION) && relation.equals(n.relation()) && n.depth() == 2)
                .findFirst()
                .orElseThrow(() -> new TrellisException(ErrorCode.INVALID_STATE, lineage.version().modelName() + " v" + lineage.version().version()
                        + " has no recorded '" + relation + "' input in its lineage, so its training cannot be reproduced."));
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover scratch folder is harmless
        }
    }
}
