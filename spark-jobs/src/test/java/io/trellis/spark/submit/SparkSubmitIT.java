package io.trellis.spark.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.spark.JobMain;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.monitor.DriftMain;
import io.trellis.spark.sample.SampleDataJob;
import io.trellis.spark.train.TrainJob;
import io.trellis.spark.validate.ValidateJob;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.SampleModels;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the Spark applications of a retrain the way a cluster runs them: each in its own JVM through
 * {@code org.apache.spark.deploy.SparkSubmit --master local[2] --class … <shaded jar>}, with Spark's jars on
 * the classpath and our classes (and Delta, and the model spec's YAML parser) coming only from the shaded
 * application jar. The jobs talk to each other only through their JSON reports and the Delta tables on a
 * temporary lake, as a caller submitting them to a cluster would.
 *
 * <p>Every SparkSubmit JVM costs several seconds to start, so the data is tiny and the chain stops at
 * evaluation.
 */
class SparkSubmitIT {
    /** The shade plugin's classifier: {@code trellis-spark-jobs-<version>-spark-submit.jar}. */
    private static final String SHADED_JAR_SUFFIX = "-spark-submit.jar";
    /** Generous against a loaded 2-core machine; a job of this size finishes in well under a minute. */
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);
    private static final int LOG_TAIL_LINES = 60;
    /** Packages that the shaded jar carries; classpath entries holding them are not Spark's to provide. */
    private static final List<String> SHADED_PACKAGES = List.of("io/trellis/", "io/delta/", "com/fasterxml/jackson/dataformat/yaml/");
    /** The parent pom's Spark JVM options (one list for surefire, failsafe, bin/trellis and this test). */
    private static final List<String> SPARK_JVM_OPTIONS = sparkJvmOptions();

    private static List<String> sparkJvmOptions() {
        String opts = System.getProperty("trellis.spark.jvm.options");
        if (opts == null || opts.isBlank()) {
            throw new IllegalStateException("system property trellis.spark.jvm.options is not set; run this test through Maven (failsafe sets it from the parent pom)");
        }
        return List.of(opts.trim().split("\\s+"));
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Kept after a failure: it holds each step's console log and report for a look at what went wrong. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path work;
    private static Path applicationJar;
    private static String sparkClasspath;
    private static Path spec;

    @BeforeAll
    static void locateJarsAndSpec() throws IOException {
        Path target = moduleDirectory().resolve("target");
        applicationJar = shadedJar(target);
        sparkClasspath = sparkClasspath(target);
        spec = Files.writeString(work.resolve("customer-churn.yaml"), SampleModels.customerChurnYaml());
    }

    @Test
    void theApplicationsOfARetrainRunThroughSparkSubmitFromTheShadedJar() throws Exception {
        Path lake = Files.createDirectories(work.resolve("lake"));
        String rawTable = lake.resolve(SampleModels.CUSTOMER_CHURN_TABLE).toString();
        String featureTable = lake.resolve("features/customer_churn").toString();
        String model = work.resolve("models/candidate").toString();
        String runKey = "spark-submit-it-run-1";

        JsonNode sample = submit("sample-data", SampleDataJob.class,
                "--table", rawTable, "--rows", "3000", "--days", "3", "--seed", "11").requireOk();
        assertThat(sample.path("tablePath").asText()).isEqualTo(rawTable);
        assertThat(sample.path("tableVersion").asLong()).as("one Delta commit per daily batch: versions 0, 1, 2").isEqualTo(2);
        assertThat(sample.path("rowsWritten").asLong()).isEqualTo(3000);
        assertThat(sample.path("batchesWritten").asInt()).isEqualTo(3);

        JsonNode snapshot = submit("validate", ValidateJob.class,
                "--spec", spec.toString(), "--lake", lake.toString()).requireOk();
        assertThat(snapshot.path("tablePath").asText()).as("the spec's relative table resolved under --lake").isEqualTo(rawTable);
        assertThat(snapshot.path("deltaVersion").asLong()).isEqualTo(sample.path("tableVersion").asLong());
        assertThat(snapshot.path("rowCount").asLong()).isEqualTo(3000);
        assertThat(snapshot.path("passed").asBoolean()).as("data-quality verdict: %s", snapshot.path("results")).isTrue();

        JsonNode features = submit("features", FeatureJob.class,
                "--spec", spec.toString(), "--lake", lake.toString(),
                "--source-version", snapshot.path("deltaVersion").asText(),
                "--features", featureTable, "--run-key", runKey).requireOk();
        assertThat(features.path("tablePath").asText()).isEqualTo(featureTable);
        assertThat(features.path("version").asLong()).isZero();
        assertThat(features.path("committed").asBoolean()).isTrue();
        long trainRows = features.path("trainRows").asLong();
        long holdoutRows = features.path("holdoutRows").asLong();
        assertThat(trainRows + holdoutRows).as("every sample row has a label").isEqualTo(3000);
        assertThat(holdoutRows).as("holdoutFraction 0.2 of 3,000 rows").isBetween(450L, 750L);
        assertThat(deltaCommits(Path.of(featureTable))).as("the feature table's Delta history").containsExactly(0L);
        assertThat(commitInfo(Path.of(featureTable), 0).path("userMetadata").asText()).isEqualTo(runKey);

        JsonNode trained = submit("train", TrainJob.class,
                "--spec", spec.toString(), "--features", features.path("tablePath").asText(),
                "--features-version", features.path("version").asText(), "--model", model).requireOk();
        assertThat(trained.path("modelPath").asText()).isEqualTo(model);
        assertThat(trained.path("algorithm").asText()).isEqualTo("logistic_regression");
        assertThat(trained.path("trainRows").asLong()).isEqualTo(trainRows);
        assertThat(Path.of(model, "metadata")).as("the saved PipelineModel").isDirectory();

        JsonNode evaluation = submit("evaluate", EvaluateJob.class,
                "--spec", spec.toString(), "--features", features.path("tablePath").asText(),
                "--features-version", features.path("version").asText(),
                "--candidate", trained.path("modelPath").asText()).requireOk();
        assertThat(evaluation.path("holdoutRows").asLong()).isEqualTo(holdoutRows);
        assertThat(evaluation.path("candidate").path("auc").asDouble()).as("candidate AUC on the holdout").isGreaterThan(0.7);
        assertThat(evaluation.path("champion").isNull()).as("no champion was given").isTrue();

        // Monitoring's two steps as applications: the reference profile of the training snapshot, then the current window
        // counted against it (nothing stored in the predictions table named, so the window is re-scored, with a finding).
        JsonNode reference = submit("drift-reference", DriftMain.class,
                "--spec", spec.toString(), "--step", "reference", "--table", rawTable,
                "--source-version", snapshot.path("deltaVersion").asText(), "--model", model).requireOk();
        assertThat(reference.path("version").asLong()).isEqualTo(snapshot.path("deltaVersion").asLong());
        assertThat(reference.path("table").asText()).isEqualTo(rawTable);
        assertThat(reference.path("bins").size()).as("one set of bins per feature").isEqualTo(SampleModels.customerChurn().features().all().size());
        assertThat(reference.path("profile").path("rows").asLong()).isEqualTo(3000);
        Path profile = Files.writeString(work.resolve("reference-profile.json"), JSON.writeValueAsString(reference));
        String predictions = lake.resolve("predictions/customer-churn/production").toString();
        JsonNode current = submit("drift-current", DriftMain.class,
                "--spec", spec.toString(), "--step", "current", "--lake", lake.toString(), "--reference", profile.toString(),
                "--model", model, "--predictions", predictions, "--model-version", "1").requireOk();
        assertThat(current.path("sourceTable").asText()).isEqualTo(rawTable);
        assertThat(current.path("sourceVersion").asLong()).as("the table's latest version").isEqualTo(2);
        JsonNode window = current.path("profile");
        assertThat(window.path("rows").asLong()).as("the spec's 3-day window: the whole sample").isEqualTo(3000);
        assertThat(window.path("scoresFrom").asText()).startsWith("the live model, re-scoring the window");
        assertThat(window.path("findings").toString()).contains("no predictions table at " + predictions);
        long scored = 0;
        for (JsonNode n : window.path("scores")) {
            scored += n.asLong();
        }
        assertThat(scored).as("every window row scored once").isEqualTo(3000);

        Submission badStep = submit("drift-bad-step", DriftMain.class, "--spec", spec.toString(), "--step", "later");
        assertThat(badStep.exitCode()).as(badStep::describe).isEqualTo(JobMain.EXIT_USER_ERROR);
        assertThat(badStep.report().path("message").asText()).contains("--step must be 'reference' or 'current', got 'later'");
    }

    @Test
    void validatingALakeWithoutTheSourceTableExitsWithStatus2AndMissingTable() throws Exception {
        Path emptyLake = Files.createDirectories(work.resolve("empty-lake"));

        Submission run = submit("validate-missing-table", ValidateJob.class,
                "--spec", spec.toString(), "--lake", emptyLake.toString());

        assertThat(run.exitCode()).as(run::describe).isEqualTo(JobMain.EXIT_USER_ERROR);
        JsonNode report = run.report();
        assertThat(report.path("job").asText()).isEqualTo("validate");
        assertThat(report.path("ok").asBoolean(true)).as(run::describe).isFalse();
        assertThat(report.path("errorCode").asText()).as(run::describe).isEqualTo(ErrorCode.MISSING_TABLE.name());
        assertThat(report.path("usage").path("wallMillis").isNumber()).as("a failed job reports its usage too: %s", report).isTrue();
        assertThat(report.path("message").asText()).contains(emptyLake.resolve(SampleModels.CUSTOMER_CHURN_TABLE).toString());
        assertThat(run.log()).as("what the operator sees on the console").content()
                .contains("trellis validate failed [MISSING_TABLE]");
    }

    @Test
    void aMisspelledArgumentIsReportedAtTheReportPathWithStatus2() throws Exception {
        Submission run = submit("validate-misspelled-argument", ValidateJob.class,
                "--spec", spec.toString(), "--lak", work.resolve("lake").toString());

        assertThat(run.exitCode()).as(run::describe).isEqualTo(JobMain.EXIT_USER_ERROR);
        JsonNode report = run.report();
        assertThat(report.path("errorCode").asText()).as(run::describe).isEqualTo(ErrorCode.INVALID_REQUEST.name());
        assertThat(report.path("message").asText()).contains("unknown argument --lak", "--lake");
    }

    /** Runs one job through SparkSubmit in a child JVM and waits for it, killing it after {@link #JOB_TIMEOUT}. */
    private static Submission submit(String step, Class<?> job, String... jobArgs) throws IOException, InterruptedException {
        Path report = work.resolve(step + ".report.json");
        Path log = work.resolve(step + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        // C1 only: these JVMs live seconds on tiny data, where C2's compile work never pays off (about 20% faster).
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(SPARK_JVM_OPTIONS);
        command.addAll(List.of("-cp", sparkClasspath, "org.apache.spark.deploy.SparkSubmit",
                "--master", "local[2]",
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.driver.host=127.0.0.1",
                // What a small cluster's spark-defaults would say; the jobs leave tuning to spark-submit.
                "--conf", "spark.sql.shuffle.partitions=4",
                "--conf", "spark.databricks.delta.snapshotPartitions=2",
                "--conf", "spark.sql.warehouse.dir=" + work.resolve("warehouse").toUri(),
                "--conf", "spark.log.level=WARN",
                "--class", job.getName(),
                applicationJar.toString()));
        command.addAll(Arrays.asList(jobArgs));
        command.addAll(List.of("--report", report.toString()));

        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        long start = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(JOB_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor();
            fail(step + " (" + job.getSimpleName() + ") did not finish within " + JOB_TIMEOUT + "; log tail:\n" + tail(log));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.printf("spark-submit %s (%s): exit %d after %.1f s%n", step, job.getSimpleName(), process.exitValue(), took.toMillis() / 1000.0);
        return new Submission(step, process.exitValue(), report, log);
    }

    /** A finished SparkSubmit run: its exit status, its JSON report and its console output. */
    private record Submission(String step, int exitCode, Path reportFile, Path log) {
        JsonNode report() {
            if (!Files.isRegularFile(reportFile)) {
                fail(step + " wrote no report at " + reportFile + "; " + describe());
            }
            try {
                return JSON.readTree(reportFile.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("unreadable report of " + step + ": " + reportFile, e);
            }
        }

        /** The report's result after checking the run succeeded. */
        JsonNode requireOk() {
            assertThat(exitCode).as(this::describe).isZero();
            JsonNode report = report();
            assertThat(report.path("ok").asBoolean(false)).as(() -> "report " + report + "; " + describe()).isTrue();
            // Every job reports what its Spark tasks used (the worker records it in cluster mode): each reads rows.
            JsonNode usage = report.path("usage");
            assertThat(usage.path("tasks").asLong()).as("usage in %s", report).isPositive();
            assertThat(usage.path("executorRunMillis").asLong()).as("usage in %s", report).isPositive();
            assertThat(usage.path("recordsRead").asLong()).as("usage in %s", report).isPositive();
            assertThat(report.path("applicationId").asText()).as("application id in %s", report).startsWith("local-");
            return report.path("result");
        }

        String describe() {
            return step + " exited with status " + exitCode + "; last " + LOG_TAIL_LINES + " lines of " + log + ":\n" + tail(log);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static Path shadedJar(Path target) throws IOException {
        List<Path> jars;
        try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty()) {
            jars = files.filter(f -> f.getFileName().toString().startsWith("trellis-spark-jobs-")
                    && f.getFileName().toString().endsWith(SHADED_JAR_SUFFIX)).toList();
        }
        if (jars.size() != 1) {
            fail("expected one shaded application jar trellis-spark-jobs-<version>" + SHADED_JAR_SUFFIX + " in " + target
                    + ", found " + jars + "; it is built in the package phase, so run this test with"
                    + " `mvn verify -pl spark-jobs` (failsafe runs *IT after package), after `mvn clean` if several versions are there");
        }
        return jars.get(0);
    }

    /** This module's directory: failsafe sets {@code basedir}; an IDE usually runs in it. */
    private static Path moduleDirectory() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    }

    /**
     * The test JVM's classpath less this module's build output (target/classes, target/test-classes and its
     * jars) and any entry holding a package the shaded jar carries (the model-spec jar, Delta, the YAML
     * parser): what is left is Spark and its dependencies, as a cluster provides them.
     */
    private static String sparkClasspath(Path target) {
        List<String> kept = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path path = Path.of(entry).toAbsolutePath().normalize();
            if (!path.startsWith(target) && !holdsShadedPackage(path)) {
                kept.add(path.toString());
            }
        }
        assertThat(kept).as("Spark's jars on the test classpath")
                .anyMatch(e -> Path.of(e).getFileName().toString().startsWith("spark-core_"));
        return String.join(File.pathSeparator, kept);
    }

    private static boolean holdsShadedPackage(Path entry) {
        if (Files.isDirectory(entry)) {
            return SHADED_PACKAGES.stream().anyMatch(p -> Files.isDirectory(entry.resolve(p)));
        }
        if (!Files.isRegularFile(entry)) {
            return false;
        }
        try (ZipFile zip = new ZipFile(entry.toFile())) {
            return zip.stream().anyMatch(e -> SHADED_PACKAGES.stream().anyMatch(p -> e.getName().startsWith(p)));
        } catch (IOException e) {
            return false;
        }
    }

    /** The versions in a Delta table's log (its commit files), read straight from {@code _delta_log}. */
    private static List<Long> deltaCommits(Path table) throws IOException {
        try (Stream<Path> files = Files.list(table.resolve("_delta_log"))) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.matches("\\d{20}\\.json"))
                    .map(n -> Long.parseLong(n.substring(0, 20)))
                    .sorted()
                    .toList();
        }
    }

    private static JsonNode commitInfo(Path table, long version) throws IOException {
        Path commit = table.resolve("_delta_log").resolve(String.format("%020d.json", version));
        for (String line : Files.readAllLines(commit, StandardCharsets.UTF_8)) {
            JsonNode action = JSON.readTree(line);
            if (action.has("commitInfo")) {
                return action.get("commitInfo");
            }
        }
        return fail("commit " + commit + " has no commitInfo action");
    }
}
