package io.trellis.workers.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.activities.spark.cluster.SparkSubmitLauncher;
import io.trellis.activities.spark.cluster.SparkSubmitSettings;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.JobMain;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.evaluate.EvaluationReport;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.features.FeatureReport;
import io.trellis.spark.sample.SampleDataJob;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spark.train.TrainJob;
import io.trellis.spark.train.TrainReport;
import io.trellis.spark.validate.SnapshotReport;
import io.trellis.spark.validate.ValidateJob;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench/cluster}: the retrain's four Spark jobs (validate, features, train, evaluate) on the same generated rows,
 * in local mode (their cores on one in-process {@code local[2]} session, as a worker runs them) and in cluster mode
 * (each spark-submitted from the shaded jar to a Spark standalone cluster of one 2-core Worker on this machine, as a
 * worker in {@code trellis.spark.mode=cluster} submits them). Start-up is printed apart: the in-process session's start,
 * the cluster's start (Master + Worker), and per job the part of its wall time outside the application as the Master
 * timed it (spark-submit JVM, driver start, registration). Both modes must agree on the row counts. Runs only when
 * {@code trellis.bench.cluster.rows} is set.
 */
@EnabledIfSystemProperty(named = "trellis.bench.cluster.rows", matches = "\\d+")
class ClusterBenchmarkIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void retrainSparkJobsOnTheStandaloneClusterVsLocalMode() throws Exception {
        long rows = Long.parseLong(System.getProperty("trellis.bench.cluster.rows"));
        ModelSpec spec = ModelSpecLoader.parse(SampleModels.customerChurnYaml());
        Path lake = Files.createDirectories(tmp.resolve("lake"));
        String source = lake.resolve(SampleModels.CUSTOMER_CHURN_TABLE).toString();

        long t = System.nanoTime();
        SparkSession spark = TestingSpark.session();
        double sessionStart = seconds(t);
        SampleDataJob.run(spark, new SampleDataOptions(source, rows, 5, 7, SampleDataOptions.NO_DRIFT, 1.0));

        // Local mode: the jobs' cores on the shared in-process session.
        Map<String, Double> local = new LinkedHashMap<>();
        SnapshotReport snapshot = timed(local, "validate", () -> ValidateJob.run(spark, spec, source, null));
        String localFeatures = lake.resolve("features/local").toString();
        FeatureReport features = timed(local, "features", () -> FeatureJob.run(spark, spec,
                new DatasetVersion(source, snapshot.deltaVersion()), localFeatures, "bench-local"));
        String localModel = tmp.resolve("models/local").toUri().toString();
        TrainReport trained = timed(local, "train", () -> TrainJob.run(spark, spec, new DatasetVersion(localFeatures, features.version()),
                localModel));
        EvaluationReport evaluated = timed(local, "evaluate", () -> EvaluateJob.run(spark, spec,
                new DatasetVersion(localFeatures, features.version()), localModel, null));

        // Cluster mode: each job its own application on the standalone cluster.
        t = System.nanoTime();
        Map<String, Double> cluster = new LinkedHashMap<>();
        Map<String, Double> inApplication = new LinkedHashMap<>();
        try (TestingSparkCluster sparkCluster = TestingSparkCluster.start(tmp.resolve("cluster"), 2, "4g")) {
            double clusterStart = seconds(t);
            SparkSubmitLauncher launcher = new SparkSubmitLauncher(new SparkSubmitSettings(sparkCluster.sparkHome(), sparkCluster.masterUrl(),
                    SparkSubmitSettings.DeployMode.CLIENT, TestingSparkCluster.jobsJar(), "2g", 2, Optional.of(1), "1g", "127.0.0.1",
                    Map.of("spark.sql.shuffle.partitions", "4", "spark.databricks.delta.snapshotPartitions", "2", "spark.log.level", "WARN"),
                    tmp.resolve("submit")).requireInstalled(), Map.of("TRELLIS_TEST_DRIVER_HEAP", "2g"));
            Path specFile = tmp.resolve("customer_churn" + JobMain.SPEC_JSON_SUFFIX);
            JSON.writeValue(specFile.toFile(), spec);
            String clusterFeatures = lake.resolve("features/cluster").toString();
            String clusterModel = tmp.resolve("models/cluster").toUri().toString();
            JsonNode cSnapshot = submit(launcher, sparkCluster, cluster, inApplication, "validate", ValidateJob.class,
                    "--spec", specFile.toString(), "--table", source);
            JsonNode cFeatures = submit(launcher, sparkCluster, cluster, inApplication, "features", FeatureJob.class,
                    "--spec", specFile.toString(), "--table", source, "--source-version", cSnapshot.path("deltaVersion").asText(),
                    "--features", clusterFeatures, "--run-key", "bench-cluster");
            JsonNode cTrained = submit(launcher, sparkCluster, cluster, inApplication, "train", TrainJob.class,
                    "--spec", specFile.toString(), "--features", clusterFeatures, "--features-version", cFeatures.path("version").asText(),
                    "--model", clusterModel);
            JsonNode cEvaluated = submit(launcher, sparkCluster, cluster, inApplication, "evaluate", EvaluateJob.class,
                    "--spec", specFile.toString(), "--features", clusterFeatures, "--features-version", cFeatures.path("version").asText(),
                    "--candidate", clusterModel);

            // Same rows in, same splits out.
            assertThat(cSnapshot.path("rowCount").asLong()).isEqualTo(snapshot.rowCount()).isEqualTo(rows);
            assertThat(cFeatures.path("trainRows").asLong()).isEqualTo(features.trainRows());
            assertThat(cFeatures.path("holdoutRows").asLong()).isEqualTo(features.holdoutRows());
            assertThat(cTrained.path("trainRows").asLong()).isEqualTo(trained.trainRows());
            assertThat(cEvaluated.path("holdoutRows").asLong()).isEqualTo(evaluated.holdoutRows());

            double localTotal = local.values().stream().mapToDouble(Double::doubleValue).sum();
            double clusterTotal = cluster.values().stream().mapToDouble(Double::doubleValue).sum();
            double appTotal = inApplication.values().stream().mapToDouble(Double::doubleValue).sum();
            System.out.printf(Locale.ROOT, "%,d rows; local mode = in-process local[2] session, cluster mode = spark-submit (client deploy"
                    + " mode) to a standalone Master + one 2-core Worker on this machine%n", rows);
            System.out.printf(Locale.ROOT, "%-10s %10s %12s %14s%n", "job", "local s", "cluster s", "in app (s)");
            for (String job : local.keySet()) {
                System.out.printf(Locale.ROOT, "%-10s %10.1f %12.1f %14.1f%n", job, local.get(job), cluster.get(job), inApplication.get(job));
            }
            System.out.printf(Locale.ROOT, "start-up: local session %.1f s (once per worker); cluster Master + Worker %.1f s (once);"
                    + " per job outside the application %.1f s in all%n", sessionStart, clusterStart, clusterTotal - appTotal);
            List<String> results = new ArrayList<>();
            results.add(String.format(Locale.ROOT, "RESULT rows=%d", rows));
            results.add(String.format(Locale.ROOT, "RESULT local_session_start_seconds=%.1f", sessionStart));
            results.add(String.format(Locale.ROOT, "RESULT cluster_start_seconds=%.1f", clusterStart));
            results.add(String.format(Locale.ROOT, "RESULT local_seconds=%.1f", localTotal));
            results.add(String.format(Locale.ROOT, "RESULT cluster_seconds=%.1f", clusterTotal));
            results.add(String.format(Locale.ROOT, "RESULT cluster_submit_overhead_seconds=%.1f", clusterTotal - appTotal));
            results.add(String.format(Locale.ROOT, "RESULT cluster_in_application_seconds=%.1f", appTotal));
            results.add(String.format(Locale.ROOT, "RESULT cluster_local_ratio=%.2f", clusterTotal / localTotal));
            results.forEach(System.out::println);
        }
    }

    private static <T> T timed(Map<String, Double> times, String job, Supplier<T> body) {
        long t = System.nanoTime();
        T result = body.get();
        times.put(job, seconds(t));
        return result;
    }

    private static JsonNode submit(SparkSubmitLauncher launcher, TestingSparkCluster cluster, Map<String, Double> times,
                                   Map<String, Double> inApplication, String job, Class<?> main, String... args) throws Exception {
        String app = "trellis bench " + job;
        long t = System.nanoTime();
        JsonNode result = launcher.submit(job, app, main, List.of(args), Files.createDirectories(launcher.settings().workDir().resolve(job)),
                p -> { });
        times.put(job, seconds(t));
        double duration = Double.NaN;
        for (JsonNode a : cluster.masterState().path("completedapps")) {
            if (a.path("name").asText().equals(app)) {
                duration = a.path("duration").asLong() / 1000.0;
            }
        }
        inApplication.put(job, duration);
        return result;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
