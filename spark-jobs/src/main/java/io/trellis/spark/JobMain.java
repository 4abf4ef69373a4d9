package io.trellis.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.RetrainOverrides;
import io.trellis.spec.TrellisException;
import io.trellis.spark.usage.ResourceUsage;
import io.trellis.spark.usage.ResourceUsageListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * What every job's {@code main} shares: parse {@code --name value} arguments, get the session
 * spark-submit prepared (plus the Delta settings), run the core, and write a JSON report to
 * {@code --report}: {@code {"job":…, "ok":true, "result":{…}, "applicationId":…, "usage":{…}}} (usage: what the job's
 * Spark tasks used, a {@link ResourceUsage}) or, on a user-facing error,
 * {@code {"job":…, "ok":false, "errorCode":"SCHEMA_MISMATCH", "message":…}} and exit status 2
 * (any other failure exits 1, with the report when it could be written).
 */
public final class JobMain {
    public static final int EXIT_USER_ERROR = 2;
    /** A {@code --spec} path ending in this holds the spec record as JSON rather than the owners' YAML. */
    public static final String SPEC_JSON_SUFFIX = ".spec.json";
    /** The Spark job group a job's core runs in; its tasks are what the report's {@code usage} sums. */
    public static final String USAGE_GROUP = "trellis-job";
    private static final List<String> RESOURCE_KEYS = List.of("spark.executor.memory", "spark.executor.cores",
            "spark.executor.instances", "spark.cores.max", "spark.driver.memory");
    private static final Duration USAGE_SETTLE = Duration.ofSeconds(10);
    private static final ObjectMapper RECORDS = new ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** The core of a job given its session and arguments; returns the result record for the report. */
    @FunctionalInterface
    public interface Body {
        Object run(SparkSession spark, JobArguments args) throws Exception;
    }

    private JobMain() {}

    public static void run(String job, String[] argv, Set<String> known, Body body) {
        Set<String> names = new HashSet<>(known);
        names.add("report");
        int status = 0;
        SparkSession spark = null;
        String reportPath = null;
        ResourceUsageListener usage = null;
        long started = System.nanoTime();
        try {
            // Known before parsing, so that malformed arguments are still reported where the caller looks.
            reportPath = reportPathIn(argv);
            JobArguments args = JobArguments.parse(job, argv, names);
            SparkSession.Builder builder = SparkSession.builder();
            // spark-submit's --name (a Trellis worker names the run and step there) wins over the default name.
            if (System.getProperty("spark.app.name") == null) {
                builder.appName("trellis-" + job);
            }
            spark = SparkSessions.withDelta(builder).getOrCreate();
            // What the job's Spark jobs use goes into its report (the worker records it, as in local mode): the same
            // listener, counting the job group the core's jobs run in.
            usage = ResourceUsageListener.on(spark.sparkContext());
            spark.sparkContext().setJobGroup(USAGE_GROUP, "trellis " + job, false);
            started = System.nanoTime();
            Object result = body.run(spark, args);
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("job", job);
            report.put("ok", true);
            report.put("result", result);
            putUsage(report, spark, usage, started);
            writeReport(spark, reportPath, report);
        } catch (TrellisException e) {
            status = EXIT_USER_ERROR;
            System.err.println("trellis " + job + " failed [" + e.code() + "]: " + e.getMessage());
            writeFailure(spark, reportPath, job, e.code().name(), e.getMessage(), usage, started);
        } catch (Exception e) {
            status = 1;
            e.printStackTrace();
            writeFailure(spark, reportPath, job, null, String.valueOf(e), usage, started);
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * The value of {@code --report <path>} or {@code --report=<path>} in raw arguments (the last one wins, as in
     * {@link JobArguments}), or null; reads name/value pairs the way {@link JobArguments#parse} does.
     */
    static String reportPathIn(String[] argv) {
        String path = null;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--report=")) {
                path = a.substring("--report=".length());
            } else if (a.startsWith("--") && a.length() > 2 && a.indexOf('=') < 0 && i + 1 < argv.length) {
                if (a.equals("--report")) {
                    path = argv[i + 1];
                }
                i++;
            }
        }
        return path;
    }

    /**
     * Adds {@code applicationId}, {@code resources} (the executor and driver sizes in the application's configuration) and
     * {@code usage} (a {@link ResourceUsage}: what the job group's tasks used, its wall time the core's) to a report; leaves them out when there is no session or reading them fails (the report still goes).
     */
    static void putUsage(Map<String, Object> report, SparkSession spark, ResourceUsageListener usage, long started) {
        if (spark == null || usage == null) {
            return;
        }
        try {
            long wallMillis = (System.nanoTime() - started) / 1_000_000;
            if (!usage.awaitEvents(USAGE_SETTLE)) {
                System.err.println("Spark's listener bus did not drain within " + USAGE_SETTLE + "; the usage may miss the last tasks");
            }
            report.put("applicationId", spark.sparkContext().applicationId());
            // The sizes the application ran with, as its own configuration says (the spec's or the worker's settings).
            Map<String, String> resources = new LinkedHashMap<>();
            for (String key : RESOURCE_KEYS) {
                scala.Option<String> value = spark.sparkContext().getConf().getOption(key);
                if (value.isDefined()) {
                    resources.put(key, value.get());
                }
            }
            report.put("resources", resources);
            report.put("usage", usage.take(USAGE_GROUP).withWallMillis(wallMillis));
        } catch (RuntimeException e) {
            System.err.println("usage not reported: " + e);
        }
    }

    private static void writeFailure(SparkSession spark, String reportPath, String job, String code, String message,
                                     ResourceUsageListener usage, long started) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("job", job);
        report.put("ok", false);
        report.put("errorCode", code);
        report.put("message", message);
        putUsage(report, spark, usage, started);
        try {
            writeReport(spark, reportPath, report);
        } catch (RuntimeException ignored) {
            // The error already went to stderr; a report we cannot write must not hide it.
        }
    }

    /** Writes {@code value} as JSON to a local path or any Hadoop file system URI; no-op without a path. */
    public static void writeReport(SparkSession spark, String path, Object value) {
        if (path == null) {
            System.out.println(toJson(value));
            return;
        }
        Configuration conf = spark == null ? new Configuration() : spark.sparkContext().hadoopConfiguration();
        Path p = new Path(path);
        try (OutputStream out = p.getFileSystem(conf).create(p, true)) {
            out.write(toJson(value).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write report " + path, e);
        }
    }

    public static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Loads a model spec from a local path or any Hadoop file system URI: the owners' YAML, or, for a path ending in
     * {@value #SPEC_JSON_SUFFIX}, the already-validated spec as the JSON record Temporal carries (what a worker in
     * cluster mode hands its jobs, so a job runs with exactly the spec the workflow holds).
     */
    public static ModelSpec loadSpec(SparkSession spark, String path) {
        String text = readText(spark, path, ErrorCode.INVALID_MODEL_SPEC, "model spec", "--spec");
        if (path.endsWith(SPEC_JSON_SUFFIX)) {
            try {
                return RECORDS.readValue(text, ModelSpec.class);
            } catch (IOException e) {
                throw new TrellisException(ErrorCode.INVALID_MODEL_SPEC,
                        "model spec " + path + " is not a spec record in JSON: " + e.getMessage(), e);
            }
        }
        return ModelSpecLoader.parse(text, path);
    }

    /** The retrain's overrides (data window, hyperparameters) from the JSON file at {@code --overrides}, or null without one. */
    public static RetrainOverrides loadOverrides(SparkSession spark, JobArguments args) {
        if (!args.has("overrides")) {
            return null;
        }
        String path = args.require("overrides");
        try {
            return RECORDS.readValue(readText(spark, path, ErrorCode.INVALID_REQUEST, "retrain overrides", "--overrides"),
                    RetrainOverrides.class);
        } catch (IOException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "retrain overrides " + path + " are not valid JSON: "
                    + e.getMessage(), e);
        }
    }

    /**
     * A record of type {@code type} from the JSON file at {@code path} (read through Hadoop's file systems, as the spec
     * is); INVALID_REQUEST naming {@code what} and {@code argument} when it cannot be read or is not such a record.
     */
    public static <T> T loadRecord(SparkSession spark, String path, Class<T> type, String what, String argument) {
        try {
            return RECORDS.readValue(readText(spark, path, ErrorCode.INVALID_REQUEST, what, argument), type);
        } catch (IOException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, what + " " + path + " is not valid JSON of a "
                    + type.getSimpleName() + ": " + e.getMessage() + ". Check the " + argument + " path.", e);
        }
    }

    private static String readText(SparkSession spark, String path, ErrorCode code, String what, String argument) {
        Path p = new Path(path);
        try {
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            try (InputStream in = fs.open(p)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new TrellisException(code, "cannot read " + what + " " + path + ": " + e.getMessage() + ". Check the "
                    + argument + " path.", e);
        }
    }

    /** The source table of a spec: {@code --table} if given, else the spec's table under {@code --lake}. */
    public static String sourceTable(JobArguments args, ModelSpec spec) {
        if (args.has("table")) {
            return args.require("table");
        }
        String table = spec.source().table();
        if (Lake.isAbsolute(table)) {
            return table;
        }
        return new Lake(args.require("lake")).resolve(table);
    }
}
