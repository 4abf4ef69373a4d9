package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.ActivityCompletionException;
import io.temporal.failure.ApplicationFailure;
import io.trellis.activities.ActivityErrors;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import io.trellis.spark.usage.ResourceUsage;
import io.trellis.workflows.activities.SparkStepProgress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;
import org.apache.spark.launcher.SparkAppHandle;
import org.apache.spark.launcher.SparkLauncher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one Spark application of the shaded {@code spark-jobs} jar through {@code spark-submit} for the calling activity
 * and waits for it: the application's state (from spark-submit, through Spark's launcher protocol) and, where the
 * driver's REST API is reachable (client deploy mode), its jobs, stages and tasks go to Temporal as heartbeats every
 * couple of seconds. When Temporal cancels the activity (the workflow was cancelled, or heartbeats stopped), the
 * application is stopped and then killed, so nothing keeps writing after the activity gave up. In standalone cluster
 * deploy mode the driver runs on a Worker and spark-submit only waits for it, so the driver is killed through the Master
 * ({@code bin/spark-class org.apache.spark.deploy.Client kill <master> <driver id>}, the id from spark-submit's log):
 * {@code spark-submit --kill} would not do, as on a {@code spark://} master it asks the Master's REST submission server,
 * which is off by default and not on the port the master URL names.
 *
 * <p>The job's JSON report ({@link io.trellis.spark.JobMain}) decides the outcome: {@code ok:true} returns its result;
 * {@code ok:false} with an error code is that code's failure (non-retryable unless the code is retryable, as in local
 * mode); an application that ended without a report (lost executor, killed driver, cluster trouble) is a retryable
 * {@value #APPLICATION_FAILED} failure naming its state and the tail of its log.
 *
 * <p>With a {@link LimitCheck} (the run's hard cost limit), the application's usage so far is estimated every second from
 * the driver's REST API ({@link LiveUsage}: its stages' task metrics) and checked; over the limit the application is
 * stopped and killed like a cancelled one and {@link OverLimit} is thrown. Where the REST API is not reachable (cluster
 * deploy mode, or a UI that does not answer) nothing is checked while the application runs: the caller checks what the
 * report says when it ends.
 */
public final class SparkSubmitLauncher {
    /** The failure type of an application that ended without a report: retried by the activity's policy. */
    public static final String APPLICATION_FAILED = "SPARK_APPLICATION_FAILED";
    /** The job's JSON report, in the attempt's folder. */
    public static final String REPORT_FILE = "report.json";
    private static final long HEARTBEAT_MILLIS = 2000;
    /** How often a running application's usage is checked against a hard limit (one REST request per check). */
    private static final long LIMIT_CHECK_MILLIS = 1000;
    private static final long STATE_POLL_MILLIS = 100;
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final int LOG_TAIL_LINES = 40;
    /** A standalone driver's id as spark-submit logs it ("Driver successfully submitted as driver-20261202071500-0003"). */
    private static final Pattern STANDALONE_DRIVER = Pattern.compile("\\b(driver-\\d{14}-\\d{4,})\\b");
    /** How long a cancelled standalone-cluster submission may take to learn its driver's id from the Master. */
    private static final Duration DRIVER_ID_WAIT = Duration.ofSeconds(15);
    /** spark-class ...Client kill asks the Master, then waits for the driver's end (it polls 5 s after asking). */
    private static final Duration DRIVER_KILL_TIMEOUT = Duration.ofSeconds(60);
    private static final String KILL_LOG = "spark-kill.log";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(SparkSubmitLauncher.class);

    private final SparkSubmitSettings settings;
    private final Map<String, String> environment;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    public SparkSubmitLauncher(SparkSubmitSettings settings) {
        this(settings, Map.of());
    }

    /** With extra environment variables for spark-submit (e.g. {@code SPARK_LOCAL_IP}, {@code HADOOP_CONF_DIR}). */
    public SparkSubmitLauncher(SparkSubmitSettings settings, Map<String, String> environment) {
        this.settings = settings;
        this.environment = Map.copyOf(environment);
    }

    public SparkSubmitSettings settings() {
        return settings;
    }

    /** A folder under the work dir that is this activity attempt's own (specs, models, report, log). */
    public Path attemptDir() {
        ActivityInfo info = Activity.getExecutionContext().getInfo();
        String name = (info.getWorkflowId() + "_" + info.getRunId() + "_" + info.getActivityId() + "_attempt-" + info.getAttempt())
                .replaceAll("[^A-Za-z0-9._-]", "_");
        try {
            return Files.createDirectories(settings.workDir().toAbsolutePath().resolve("attempts").resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the Spark work folder under " + settings.workDir(), e);
        }
    }

    /**
     * Submits {@code mainClass} with {@code args} (plus {@code --report}), heartbeats while it runs and returns the report's
     * {@code result}. Must run on an activity thread.
     */
    public JsonNode run(String step, Class<?> mainClass, List<String> args) {
        return run(step, mainClass, args, null);
    }

    /**
     * As {@link #run(String, Class, List)}, with the job's own resources (the model spec's {@code resources} for this step;
     * null: the settings') on the spark-submit command line.
     */
    public JsonNode run(String step, Class<?> mainClass, List<String> args, ModelSpec.Resources resources) {
        return run(step, mainClass, args, resources, null);
    }

    /** As {@link #run(String, Class, List, ModelSpec.Resources)}, with the run's hard cost limit checked while it runs (null: none). */
    public JsonNode run(String step, Class<?> mainClass, List<String> args, ModelSpec.Resources resources, LimitCheck limit) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        ActivityInfo info = ctx.getInfo();
        return submit(step, appName(step, info), mainClass, args, attemptDir(), ctx::heartbeat, resources, limit);
    }

    /** The name an activity attempt's application gets: {@code trellis <step> <workflow id> attempt <n>}. */
    static String appName(String step, ActivityInfo info) {
        return "trellis " + step + " " + info.getWorkflowId() + " attempt " + info.getAttempt();
    }

    /**
     * Decides whether a running application's usage so far ({@link LiveUsage}'s estimate) takes its run over the hard cost
     * limit: null when it does not, else the message the activity fails with.
     */
    @FunctionalInterface
    public interface LimitCheck {
        String overLimit(ResourceUsage live);
    }

    /** The application was stopped because its run went over the hard cost limit; carries the usage that decided it. */
    public static final class OverLimit extends RuntimeException {
        private final String applicationId;
        private final transient ResourceUsage usage;

        OverLimit(String message, String applicationId, ResourceUsage usage) {
            super(message, null, false, false);
            this.applicationId = applicationId;
            this.usage = usage;
        }

        /** The application's id (from its driver), or null. */
        public String applicationId() {
            return applicationId;
        }

        /** The live estimate that went over the limit. */
        public ResourceUsage usage() {
            return usage;
        }
    }

    /** Where a running application's progress goes; throws (e.g. {@link ActivityCompletionException}) to stop it. */
    @FunctionalInterface
    public interface ProgressSink {
        void beat(SparkStepProgress progress);
    }

    /**
     * Submits {@code mainClass} with {@code args} (plus {@code --report} in {@code dir}) as application {@code appName},
     * reports progress to {@code sink} every couple of seconds and returns the report's {@code result}. A sink that
     * throws stops (then kills) the application and the exception propagates.
     */
    public JsonNode submit(String step, String appName, Class<?> mainClass, List<String> args, Path dir, ProgressSink sink) {
        return submit(step, appName, mainClass, args, dir, sink, null);
    }

    /**
     * As {@link #submit(String, String, Class, List, Path, ProgressSink)}, with {@code resources} (where set) in place of
     * the settings' executor and driver sizes; {@code trellis.spark.conf} pairs still come last and win.
     */
    public JsonNode submit(String step, String appName, Class<?> mainClass, List<String> args, Path dir, ProgressSink sink,
                           ModelSpec.Resources resources) {
        return submit(step, appName, mainClass, args, dir, sink, resources, null);
    }

    /**
     * As {@link #submit(String, String, Class, List, Path, ProgressSink, ModelSpec.Resources)}; with {@code limit} (null: none),
     * where the driver's REST API answers, the application's usage is checked against it every second, and over it the
     * application is stopped (then killed) and {@link OverLimit} thrown.
     */
    public JsonNode submit(String step, String appName, Class<?> mainClass, List<String> args, Path dir, ProgressSink sink,
                           ModelSpec.Resources resources, LimitCheck limit) {
        SparkSubmitSettings settings = this.settings.withResources(resources);
        Path report = dir.resolve(REPORT_FILE);
        Path console = dir.resolve("spark-submit.log");
        try {
            Files.deleteIfExists(report);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean clientMode = settings.deployMode() == SparkSubmitSettings.DeployMode.CLIENT;
        int uiPort = clientMode ? uiPort(settings) : -1;
        SparkLauncher launcher = new SparkLauncher(environment)
                .setSparkHome(settings.sparkHome().toString())
                .setMaster(settings.master())
                .setDeployMode(settings.deployMode().flag())
                .setAppResource(settings.jobsJar().toAbsolutePath().toString())
                .setMainClass(mainClass.getName())
                .setAppName(appName)
                .setConf("spark.executor.memory", settings.executorMemory())
                .setConf("spark.executor.cores", Integer.toString(settings.executorCores()))
                .setConf(SparkLauncher.DRIVER_MEMORY, settings.driverMemory())
                // As the worker's own session (SparkSessions): time columns and data windows are read in UTC in both modes.
                .setConf("spark.sql.session.timeZone", "UTC")
                .redirectError()
                .redirectOutput(console.toFile());
        settings.executorInstances().ifPresent(n -> {
            launcher.setConf("spark.executor.instances", Integer.toString(n));
            // Standalone has no instance count: it caps the application's cores instead.
            if (settings.master().startsWith("spark://")) {
                launcher.setConf("spark.cores.max", Integer.toString(n * settings.executorCores()));
            }
        });
        if (clientMode) {
            launcher.setConf("spark.driver.host", settings.driverHost())
                    .setConf("spark.ui.enabled", "true")
                    .setConf("spark.ui.port", Integer.toString(uiPort))
                    .setConf("spark.ui.showConsoleProgress", "false");
        } else if (settings.standaloneCluster()) {
            launcher.setConf("spark.standalone.submit.waitAppCompletion", "true");
            // The standalone submission client (ClientApp) starts the driver on the Worker with spark.driver.extraJavaOptions
            // only, without Spark's Java module options (--add-opens…), which the REST gateway adds for a driver and
            // SparkContext for executors. Trellis's own value from trellis.spark.conf follows them.
            String extra = settings.conf().get(SparkLauncher.DRIVER_EXTRA_JAVA_OPTIONS);
            launcher.setConf(SparkLauncher.DRIVER_EXTRA_JAVA_OPTIONS, JavaModuleOptions.defaultModuleOptions() + (extra == null ? "" : " " + extra));
        }
        settings.conf().forEach((key, value) -> {
            if (!(settings.standaloneCluster() && key.equals(SparkLauncher.DRIVER_EXTRA_JAVA_OPTIONS))) {
                launcher.setConf(key, value);
            }
        });
        List<String> jobArgs = new ArrayList<>(args);
        jobArgs.add("--report");
        jobArgs.add(report.toString());
        launcher.addAppArgs(jobArgs.toArray(String[]::new));

        long started = System.nanoTime();
        SparkAppHandle handle;
        try {
            handle = launcher.startApplication();
        } catch (IOException e) {
            throw ApplicationFailure.newFailureWithCause("cannot start spark-submit from " + settings.sparkHome() + ": " + e.getMessage(),
                    APPLICATION_FAILED, e);
        }
        log.info("{}: spark-submit {} to {} ({} deploy mode), log {}", step, mainClass.getSimpleName(), settings.master(),
                settings.deployMode().flag(), console);
        DriverApi driver = clientMode ? new DriverApi("http://" + settings.driverHost() + ":" + uiPort, appName) : null;
        try {
            long lastBeat = System.nanoTime();
            long lastCheck = System.nanoTime();
            while (!handle.getState().isFinal()) {
                sleep(STATE_POLL_MILLIS);
                if (limit != null && driver != null
                        && System.nanoTime() - lastCheck >= TimeUnit.MILLISECONDS.toNanos(LIMIT_CHECK_MILLIS)) {
                    lastCheck = System.nanoTime();
                    ResourceUsage live = driver.usage();
                    String over = live == null ? null : limit.overLimit(live);
                    if (over != null) {
                        log.info("{}: application {} is over the run's hard cost limit; stopping it: {}", step, driver.appId, over);
                        throw new OverLimit(over, driver.appId, live);
                    }
                }
                if (System.nanoTime() - lastBeat >= TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MILLIS)) {
                    lastBeat = System.nanoTime();
                    sink.beat(progress(step, handle, driver, console, (System.nanoTime() - started) / 1_000_000));
                }
            }
        } catch (ActivityCompletionException cancelled) {
            log.info("{}: activity cancelled ({}); stopping application {}", step, cancelled.getClass().getSimpleName(), handle.getAppId());
            stop(handle, console);
            throw cancelled;
        } catch (InterruptedException interrupted) {
            stop(handle, console);
            Thread.currentThread().interrupt();
            throw ActivityErrors.translate(interrupted);
        } catch (RuntimeException other) {
            stop(handle, console);
            throw other;
        }
        log.info("{}: application {} ended {} after {} s", step, handle.getAppId(), handle.getState(),
                String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
        return outcome(step, handle.getState(), report, console);
    }

    private JsonNode outcome(String step, SparkAppHandle.State state, Path report, Path console) {
        JsonNode json = null;
        if (Files.isRegularFile(report)) {
            try {
                json = JSON.readTree(report.toFile());
            } catch (IOException e) {
                log.warn("{}: unreadable report {}: {}", step, report, e.toString());
            }
        }
        if (json != null && json.path("ok").asBoolean(false)) {
            return json.path("result");
        }
        if (json != null && json.hasNonNull("errorCode")) {
            ErrorCode code;
            try {
                code = ErrorCode.valueOf(json.get("errorCode").asText());
            } catch (IllegalArgumentException unknown) {
                code = ErrorCode.TRANSIENT;
            }
            throw ActivityErrors.translate(new TrellisException(code, json.path("message").asText()));
        }
        String why = json != null ? "its report says: " + json.path("message").asText() : "it wrote no report";
        String where = "";
        if (settings.standaloneCluster()) {
            // spark-submit only waited for the driver; what went wrong is in the driver's own log, on the Worker.
            String driver = standaloneDriverId(console);
            where = driver == null
                    ? " spark-submit's log names no driver: the Master did not accept the submission (see its reply below)."
                    : " Its driver " + driver + " ran on a standalone Worker; the driver's own log is " + driver
                            + "/stderr in that Worker's work folder (linked from the Master's web UI).";
        }
        throw ApplicationFailure.newFailure(step + ": the Spark application ended " + state + " and " + why + "." + where
                + " Last lines of " + console + ":\n" + tail(console), APPLICATION_FAILED);
    }

    /** Asks the application to stop, then kills it; in standalone cluster deploy mode the driver is killed through the master. */
    private void stop(SparkAppHandle handle, Path console) {
        try {
            if (settings.standaloneCluster()) {
                // spark-submit is only the submission client here (never connected to the launcher, so stop() cannot reach
                // the driver): ending it would leave the driver running on its Worker.
                killStandaloneDriver(handle, console);
            } else if (!handle.getState().isFinal()) {
                try {
                    handle.stop();
                } catch (RuntimeException notConnected) {
                    // The launcher connection is not up yet (or is gone): kill below.
                }
                long deadline = System.nanoTime() + STOP_GRACE.toNanos();
                while (!handle.getState().isFinal() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            handle.kill();
        }
    }

    /**
     * Kills a standalone cluster-mode driver through the Master: {@code bin/spark-class org.apache.spark.deploy.Client kill
     * <master> <driver id>} (Spark's documented way; it asks the Master over its RPC port, which then has the Worker kill the
     * driver, or drops it while it still waits for a Worker), its output in {@value #KILL_LOG} beside spark-submit's log.
     */
    private void killStandaloneDriver(SparkAppHandle handle, Path console) throws InterruptedException {
        String driver = standaloneDriverId(console);
        long deadline = System.nanoTime() + DRIVER_ID_WAIT.toNanos();
        // Cancelled right after submitting: the Master's reply, with the driver's id, may still be on its way.
        while (driver == null && !handle.getState().isFinal() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            driver = standaloneDriverId(console);
        }
        if (driver == null) {
            log.warn("no standalone driver id in {}: the Master did not (yet) accept the submission; if it did, its driver runs on"
                    + " and must be killed from the Master's web UI", console);
            return;
        }
        Path killLog = console.resolveSibling(KILL_LOG);
        log.info("killing driver {} through the master {}", driver, settings.master());
        try {
            ProcessBuilder command = new ProcessBuilder(settings.sparkHome().resolve("bin").resolve("spark-class").toString(),
                    "org.apache.spark.deploy.Client", "kill", settings.master(), driver)
                    .redirectErrorStream(true).redirectOutput(killLog.toFile());
            command.environment().putAll(environment);
            Process kill = command.start();
            if (!kill.waitFor(DRIVER_KILL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                kill.destroyForcibly();
                log.warn("killing driver {} through {} did not end within {}; see {}", driver, settings.master(), DRIVER_KILL_TIMEOUT, killLog);
            } else if (kill.exitValue() != 0) {
                log.warn("killing driver {} through {} failed (exit {}):\n{}", driver, settings.master(), kill.exitValue(), tail(killLog));
            }
        } catch (IOException e) {
            log.warn("cannot run spark-class to kill driver {} through {}: {}", driver, settings.master(), e.toString());
        }
    }

    /** The standalone driver id spark-submit logged for its submission (the first one in its log), or null. */
    static String standaloneDriverId(Path console) {
        try {
            Matcher m = STANDALONE_DRIVER.matcher(Files.readString(console, StandardCharsets.ISO_8859_1));
            return m.find() ? m.group(1) : null;
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
    }

    /**
     * The state from spark-submit, plus jobs/stages/tasks from the driver's REST API when it answers. In standalone cluster
     * deploy mode spark-submit knows no application (it never connects to the launcher): the label names the driver instead.
     */
    SparkStepProgress progress(String step, SparkAppHandle handle, DriverApi driver, Path console, long elapsedMillis) {
        String label = step + " [" + (handle.getAppId() == null ? "" : handle.getAppId() + " ") + handle.getState() + "]";
        if (handle.getAppId() == null && settings.standaloneCluster()) {
            String id = standaloneDriverId(console);
            label = step + " [" + (id == null ? "submitting to " + settings.master() : id + " on " + settings.master()) + "]";
        }
        JsonNode jobs = driver == null ? null : driver.get("jobs");
        if (jobs == null) {
            return new SparkStepProgress(label, 0, 0, 0, 0, 0, 0, elapsedMillis);
        }
        int jobsDone = 0;
        int jobsRunning = 0;
        int stagesDone = 0;
        int stagesTotal = 0;
        long tasksDone = 0;
        long tasksTotal = 0;
        for (JsonNode job : jobs) {
            String status = job.path("status").asText();
            if ("SUCCEEDED".equals(status)) {
                jobsDone++;
            } else if ("RUNNING".equals(status)) {
                jobsRunning++;
            }
            stagesDone += job.path("numCompletedStages").asInt();
            stagesTotal += job.path("stageIds").size() - job.path("numSkippedStages").asInt();
            tasksDone += job.path("numCompletedTasks").asLong();
            tasksTotal += job.path("numTasks").asLong() - job.path("numSkippedTasks").asLong();
        }
        return new SparkStepProgress(label, jobsDone, jobsRunning, stagesDone, stagesTotal, tasksDone, tasksTotal, elapsedMillis);
    }

    /**
     * The REST status API of a client-mode driver ({@code spark.ui.port}). The application is found by its name in
     * {@code /api/v1/applications}, so a UI that is some other application's (the port was taken meanwhile and Spark moved
     * ours) is never read as ours.
     */
    final class DriverApi {
        private final String base;
        private final String appName;
        private volatile String appId;

        DriverApi(String base, String appName) {
            this.base = base;
            this.appName = appName;
        }

        /** {@code /api/v1/applications/{id}/{path}} as JSON; null while the driver does not answer or is not ours. */
        JsonNode get(String path) {
            try {
                if (appId == null) {
                    JsonNode apps = fetch(base + "/api/v1/applications");
                    if (apps == null) {
                        return null;
                    }
                    for (JsonNode app : apps) {
                        if (appName.equals(app.path("name").asText())) {
                            appId = app.path("id").asText();
                        }
                    }
                    if (appId == null) {
                        return null;
                    }
                }
                return fetch(base + "/api/v1/applications/" + appId + "/" + path);
            } catch (IOException e) {
                // The driver's UI is not up yet, or already gone.
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        /** The application's usage so far ({@link LiveUsage}), or null while the driver does not answer. */
        ResourceUsage usage() {
            JsonNode stages = get("stages");
            if (stages == null) {
                return null;
            }
            return LiveUsage.estimate(get("jobs"), stages);
        }

        private JsonNode fetch(String url) throws IOException, InterruptedException {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
        }
    }

    private static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }

    /** {@code spark.ui.port} from {@code trellis.spark.conf} where set (a firewall may want a fixed one), else a free port. */
    private static int uiPort(SparkSubmitSettings settings) {
        String configured = settings.conf().get("spark.ui.port");
        if (configured != null) {
            try {
                return Integer.parseInt(configured.trim());
            } catch (NumberFormatException e) {
                // Spark refuses it itself; poll nothing useful either way.
            }
        }
        return freePort();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port for the driver's UI", e);
        }
    }

    static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e + ")";
        }
    }
}
