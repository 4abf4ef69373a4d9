package io.trellis.workers.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * A real Spark standalone cluster on 127.0.0.1 for tests and the {@code bench/cluster} benchmark: a Master and a Worker,
 * each its own JVM, started from the Maven jars on this JVM's classpath. They are laid out as a jars-only
 * {@code SPARK_HOME} ({@code jars/} of links, plus a {@code bin/spark-submit} that runs {@code SparkSubmit} on them and a
 * {@code bin/spark-class} that runs a class on them), which is what the Worker needs to launch executors and drivers, what
 * {@code SparkLauncher} needs to submit and what killing a cluster-mode driver through the Master needs. Jars holding what
 * the shaded {@code spark-jobs} jar carries (Trellis, Delta, the YAML parser) are left out, as on a real cluster.
 * {@link #close()} kills the Worker (its executors first), then the Master.
 */
public final class TestingSparkCluster implements AutoCloseable {
    /** The shade plugin's classifier: {@code trellis-spark-jobs-<version>-spark-submit.jar}. */
    private static final String SHADED_JAR_SUFFIX = "-spark-submit.jar";
    private static final List<String> SHADED_PACKAGES = List.of("io/trellis/", "io/delta/", "com/fasterxml/jackson/dataformat/yaml/");
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path home;
    private final Process master;
    private final Process worker;
    private final int masterPort;
    private final int masterUiPort;
    private final Path logs;
    private final Path workerDir;
    private final HttpClient http = HttpClient.newHttpClient();
    private Process blocker;

    private TestingSparkCluster(Path home, Process master, Process worker, int masterPort, int masterUiPort, Path logs, Path workerDir) {
        this.home = home;
        this.workerDir = workerDir;
        this.master = master;
        this.worker = worker;
        this.masterPort = masterPort;
        this.masterUiPort = masterUiPort;
        this.logs = logs;
    }

    /** Lays out a SPARK_HOME under {@code dir} and starts a Master and a Worker of {@code cores} cores and {@code memory}. */
    public static TestingSparkCluster start(Path dir, int cores, String memory) throws IOException, InterruptedException {
        Path home = sparkHome(dir.resolve("spark-home"));
        Path logs = Files.createDirectories(dir.resolve("spark-logs"));
        int port = freePort();
        int ui = freePort();
        Process master = java(home, logs.resolve("master.log"), "512m", "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", Integer.toString(port), "--webui-port", Integer.toString(ui));
        Process worker = null;
        try {
            awaitLine(master, logs.resolve("master.log"), "I have been elected leader");
            Path workerDir = Files.createDirectories(dir.resolve("spark-work"));
            worker = java(home, logs.resolve("worker.log"), "512m", "org.apache.spark.deploy.worker.Worker",
                    "--host", "127.0.0.1", "--webui-port", Integer.toString(freePort()), "--cores", Integer.toString(cores),
                    "--memory", memory, "--work-dir", workerDir.toString(),
                    "spark://127.0.0.1:" + port);
            awaitLine(worker, logs.resolve("worker.log"), "Successfully registered with master");
            return new TestingSparkCluster(home, master, worker, port, ui, logs, workerDir);
        } catch (IOException | InterruptedException | RuntimeException e) {
            kill(worker);
            kill(master);
            throw e;
        }
    }

    public String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    public Path sparkHome() {
        return home;
    }

    public Path logs() {
        return logs;
    }

    /** The Worker's work folder: a folder per executor's application and per cluster-mode driver ({@code driver-…/stderr}). */
    public Path workerDir() {
        return workerDir;
    }

    /** The Master's view ({@code /json/}): workers, active and completed applications with their states. */
    public JsonNode masterState() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUiPort + "/json/"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts an application that takes {@code cores} of the cluster's cores and holds them until {@link #stopBlocker()}:
     * applications submitted meanwhile wait for executors (the Master grants cores in order of registration).
     */
    public void startBlocker(int cores) throws IOException, InterruptedException {
        Path testClasses = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath()
                .resolve("target").resolve("test-classes");
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx512m"));
        command.addAll(jvmOptions());
        command.addAll(List.of("-cp", home.resolve("jars") + File.separator + "*" + File.pathSeparator + testClasses,
                Blocker.class.getName(), masterUrl(), Integer.toString(cores)));
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logs.resolve("blocker.log").toFile());
        b.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        blocker = b.start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode app : masterState().path("activeapps")) {
                if (Blocker.NAME.equals(app.path("name").asText()) && app.path("cores").asInt() >= cores) {
                    return;
                }
            }
            if (!blocker.isAlive()) {
                throw new IllegalStateException("the blocker application exited; see " + logs.resolve("blocker.log"));
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the blocker application did not get " + cores + " cores within " + START_TIMEOUT);
    }

    public void stopBlocker() {
        kill(blocker);
        blocker = null;
    }

    /** The blocker's main: a client-mode session that asks for its cores and then only waits. */
    public static final class Blocker {
        static final String NAME = "trellis-test-blocker";

        public static void main(String[] args) throws InterruptedException {
            org.apache.spark.sql.SparkSession.builder().master(args[0]).appName(NAME)
                    .config("spark.cores.max", args[1]).config("spark.executor.cores", "1").config("spark.executor.memory", "512m")
                    .config("spark.driver.host", "127.0.0.1").config("spark.ui.enabled", "false").getOrCreate();
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    /** Processes the Worker started (executors, and cluster-mode drivers) that are still alive. */
    public long liveExecutorProcesses() {
        return worker.descendants().filter(ProcessHandle::isAlive).count();
    }

    /** The shaded application jar built by the reactor's {@code spark-jobs} module (package phase). */
    public static Path jobsJar() {
        Path target = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().getParent()
                .resolve("spark-jobs").resolve("target");
        try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty()) {
            List<Path> jars = files.filter(f -> f.getFileName().toString().startsWith("trellis-spark-jobs-")
                    && f.getFileName().toString().endsWith(SHADED_JAR_SUFFIX)).toList();
            if (jars.size() != 1) {
                throw new IllegalStateException("expected one trellis-spark-jobs-<version>" + SHADED_JAR_SUFFIX + " in " + target
                        + ", found " + jars + "; build it through the reactor: mvn -pl workers -am verify");
            }
            return jars.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        kill(blocker);
        kill(worker);
        kill(master);
    }

    private static void kill(Process p) {
        if (p == null) {
            return;
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> jvmOptions() {
        String opts = System.getProperty("trellis.spark.jvm.options");
        if (opts == null || opts.isBlank()) {
            throw new IllegalStateException("system property trellis.spark.jvm.options is not set; run through Maven (failsafe sets it)");
        }
        return List.of(opts.trim().split("\\s+"));
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Process java(Path home, Path log, String heap, String mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx" + heap));
        command.addAll(jvmOptions());
        command.addAll(List.of("-cp", home.resolve("jars") + File.separator + "*", mainClass));
        command.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        b.environment().put("SPARK_HOME", home.toString());
        b.environment().put("SPARK_SCALA_VERSION", "2.13");
        b.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return b.start();
    }

    private static void awaitLine(Process p, Path log, String line) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(line)) {
                return;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("Spark process exited (" + p.exitValue() + ") before '" + line + "'; see " + log);
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no '" + line + "' in " + log + " within " + START_TIMEOUT);
    }

    /** {@code jars/} links to Spark's jars on this classpath; {@code bin/spark-submit} runs SparkSubmit on them. */
    private static Path sparkHome(Path home) throws IOException {
        Path jars = Files.createDirectories(home.resolve("jars"));
        Set<String> names = new HashSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry).toAbsolutePath().normalize();
            if (!entry.endsWith(".jar") || !Files.isRegularFile(path) || holdsShadedPackage(path)
                    || !names.add(path.getFileName().toString())) {
                continue;
            }
            Path link = jars.resolve(path.getFileName());
            if (!Files.exists(link)) {
                Files.createSymbolicLink(link, path);
            }
        }
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path submit = bin.resolve("spark-submit");
        // A real distribution's script computes the driver heap from spark.driver.memory; this one takes it from the environment.
        Files.writeString(submit, "#!/usr/bin/env bash\n"
                + "SPARK_HOME=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\"\n"
                + "exec \"" + javaBinary() + "\" -Xmx${TRELLIS_TEST_DRIVER_HEAP:-1g} " + String.join(" ", jvmOptions())
                + " -cp \"$SPARK_HOME/jars/*\" org.apache.spark.deploy.SparkSubmit \"$@\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        // What a distribution's bin/spark-class does for a class that is not SparkSubmit (e.g. ...deploy.Client kill).
        Path sparkClass = bin.resolve("spark-class");
        Files.writeString(sparkClass, "#!/usr/bin/env bash\n"
                + "SPARK_HOME=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\"\n"
                + "exec \"" + javaBinary() + "\" -Xmx256m " + String.join(" ", jvmOptions())
                + " -cp \"$SPARK_HOME/jars/*\" \"$@\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(sparkClass, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    private static boolean holdsShadedPackage(Path jar) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().anyMatch(e -> SHADED_PACKAGES.stream().anyMatch(p -> e.getName().startsWith(p)));
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
