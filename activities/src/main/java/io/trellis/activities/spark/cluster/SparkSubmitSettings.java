package io.trellis.activities.spark.cluster;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How a worker in cluster mode submits the retrain's Spark applications: {@code sparkHome}'s {@code bin/spark-submit}
 * runs the shaded {@code spark-jobs} jar against {@code master} ({@code spark://}, {@code k8s://} or {@code yarn}) in
 * {@code deployMode}. Executor resources apply to every job unless the model spec's {@code resources} set them for it
 * ({@link #withResources}); {@code conf} is passed through as {@code --conf} pairs (a Kubernetes image, a queue, S3A
 * settings…). {@code workDir} holds the specs handed to the jobs, their JSON reports, their console logs and the trained
 * models before they go to the artifact store: in client deploy mode a local folder; in cluster deploy mode it must be a path the drivers see too (a shared mount).
 */
public record SparkSubmitSettings(Path sparkHome, String master, DeployMode deployMode, Path jobsJar,
                                  String executorMemory, int executorCores, Optional<Integer> executorInstances,
                                  String driverMemory, String driverHost, Map<String, String> conf, Path workDir) {

    /** spark-submit's {@code --deploy-mode}: where the driver runs. */
    public enum DeployMode {
        /** The driver runs in a child process of the worker; its REST API is reachable for progress. */
        CLIENT,
        /** The driver runs on the cluster; progress is the application's state only. */
        CLUSTER;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static DeployMode parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.deploy.mode must be client or cluster, was '"
                        + text + "'");
            }
        }
    }

    public SparkSubmitSettings {
        conf = Map.copyOf(new LinkedHashMap<>(conf));
        if (!master.startsWith("spark://") && !master.startsWith("k8s://") && !master.equals("yarn")) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.master must be spark://host:port, k8s://https://host:port"
                    + " or yarn in cluster mode (trellis.spark.mode=cluster), was '" + master + "'. Use trellis.spark.mode=local"
                    + " for a local[*] session in the worker.");
        }
        if (executorCores < 1) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.executor.cores must be at least 1, was " + executorCores);
        }
        executorInstances.ifPresent(n -> {
            if (n < 1) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.executor.instances must be at least 1, was " + n);
            }
        });
    }

    /**
     * These settings with a job's own resources (the model spec's {@code resources} for one step) in place of the executor
     * and driver sizes where the job sets them; {@code null} or an empty one changes nothing.
     */
    public SparkSubmitSettings withResources(ModelSpec.Resources job) {
        if (job == null) {
            return this;
        }
        return new SparkSubmitSettings(sparkHome, master, deployMode, jobsJar,
                job.executorMemory() != null ? job.executorMemory() : executorMemory,
                job.executorCores() != null ? job.executorCores() : executorCores,
                job.executorInstances() != null ? Optional.of(job.executorInstances()) : executorInstances,
                job.driverMemory() != null ? job.driverMemory() : driverMemory, driverHost, conf, workDir);
    }

    /**
     * Cluster deploy mode on a standalone master ({@code spark://}): the driver runs on a Worker, spark-submit is only the
     * submission client that waits for it, and only the Master can kill the driver.
     */
    public boolean standaloneCluster() {
        return deployMode == DeployMode.CLUSTER && master.startsWith("spark://");
    }

    /** Checks what a submission needs on this machine; called when the worker starts, so a bad path fails there. */
    public SparkSubmitSettings requireInstalled() {
        if (!Files.isRegularFile(sparkHome.resolve("bin").resolve("spark-submit"))) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.home " + sparkHome + " has no bin/spark-submit;"
                    + " point it at a Spark 4.2 (Scala 2.13) installation, e.g. /opt/spark.");
        }
        if (standaloneCluster() && !Files.isRegularFile(sparkHome.resolve("bin").resolve("spark-class"))) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.home " + sparkHome + " has no bin/spark-class, which"
                    + " cluster deploy mode on a standalone master needs: a cancelled step's driver runs on a Worker and is killed"
                    + " through the Master with spark-class org.apache.spark.deploy.Client kill. Point trellis.spark.home at a whole"
                    + " Spark 4.2 (Scala 2.13) distribution, or use trellis.spark.deploy.mode=client.");
        }
        if (!Files.isRegularFile(jobsJar)) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.jobs.jar " + jobsJar + " does not exist; it is"
                    + " spark-jobs/target/trellis-spark-jobs-<version>-spark-submit.jar from the build (or the copy in the image).");
        }
        return this;
    }

    /** Key=value pairs separated by commas ({@code spark.kubernetes.container.image=…,spark.yarn.queue=ml}). */
    public static Map<String, String> parseConf(String text) {
        Map<String, String> conf = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return conf;
        }
        for (String pair : text.split(",")) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || !pair.trim().startsWith("spark.")) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.conf must be spark.key=value pairs separated"
                        + " by commas; '" + pair.trim() + "' is not one");
            }
            conf.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return conf;
    }
}
