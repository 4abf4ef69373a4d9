package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.activities.spark.cluster.SparkSubmitSettings;
import io.trellis.spec.TrellisException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trellis.spark.mode} and the cluster-mode settings, as a user sets them. */
class SparkModeConfigTest {
    @TempDir
    Path home;

    private TrellisConfig load(Map<String, String> env) {
        return TrellisConfig.load(Optional.empty(), env);
    }

    @Test
    void localIsTheDefaultAndKeepsTheSessionMaster() {
        TrellisConfig config = load(Map.of("TRELLIS_HOME", home.toString(), "TRELLIS_SPARK_MASTER", "local[2]"));
        assertThat(config.sparkSubmit()).isEmpty();
        assertThat(config.sparkMaster()).isEqualTo("local[2]");
        assertThat(config.toString()).contains("sparkMode=local");
    }

    @Test
    void clusterModeCollectsTheSubmitSettingsAndHandsTheS3aLakeToTheJobs() {
        TrellisConfig config = load(Map.ofEntries(Map.entry("TRELLIS_HOME", home.toString()),
                Map.entry("TRELLIS_SPARK_MODE", "cluster"), Map.entry("TRELLIS_SPARK_MASTER", "k8s://https://kube:443"),
                Map.entry("TRELLIS_SPARK_HOME", "/opt/spark"), Map.entry("TRELLIS_SPARK_JOBS_JAR", "/opt/trellis/jobs.jar"),
                Map.entry("TRELLIS_SPARK_DEPLOY_MODE", "cluster"), Map.entry("TRELLIS_SPARK_EXECUTOR_MEMORY", "4g"),
                Map.entry("TRELLIS_SPARK_EXECUTOR_CORES", "2"), Map.entry("TRELLIS_SPARK_EXECUTOR_INSTANCES", "3"),
                Map.entry("TRELLIS_SPARK_DRIVER_HOST", "10.0.0.7"),
                Map.entry("TRELLIS_SPARK_CONF", "spark.kubernetes.container.image=trellis-spark:0.1.0,spark.kubernetes.namespace=ml"),
                Map.entry("TRELLIS_LAKE_ROOT", "s3a://lake/trellis"), Map.entry("TRELLIS_S3_ENDPOINT", "http://minio:9000"),
                Map.entry("TRELLIS_S3_PATH_STYLE", "true")));

        SparkSubmitSettings s = config.sparkSubmit().orElseThrow();
        assertThat(s.master()).isEqualTo("k8s://https://kube:443");
        assertThat(s.deployMode()).isEqualTo(SparkSubmitSettings.DeployMode.CLUSTER);
        assertThat(s.sparkHome()).isEqualTo(Path.of("/opt/spark"));
        assertThat(s.jobsJar()).isEqualTo(Path.of("/opt/trellis/jobs.jar"));
        assertThat(s.executorMemory()).isEqualTo("4g");
        assertThat(s.executorCores()).isEqualTo(2);
        assertThat(s.executorInstances()).contains(3);
        assertThat(s.driverHost()).isEqualTo("10.0.0.7");
        assertThat(s.workDir()).isEqualTo(home.resolve("spark-submit"));
        assertThat(s.conf()).containsEntry("spark.kubernetes.container.image", "trellis-spark:0.1.0")
                .containsEntry("spark.kubernetes.namespace", "ml")
                .containsEntry("spark.hadoop.fs.s3a.endpoint", "http://minio:9000")
                .containsEntry("spark.hadoop.fs.s3a.path.style.access", "true");
        assertThat(config.toString()).contains("sparkMode=cluster", "k8s://https://kube:443 cluster", "executor=2c/4g x3");
    }

    @Test
    void clusterModeRefusesWhatCannotWork() {
        assertThatThrownBy(() -> load(Map.of("TRELLIS_HOME", home.toString(), "TRELLIS_SPARK_MODE", "remote")))
                .isInstanceOf(TrellisException.class).hasMessageContaining("must be local or cluster, got 'remote'");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_HOME", home.toString(), "TRELLIS_SPARK_MODE", "cluster",
                "TRELLIS_SPARK_MASTER", "spark://m:7077", "TRELLIS_SPARK_HOME", "/opt/spark")))
                .isInstanceOf(TrellisException.class).hasMessageContaining("needs trellis.spark.jobs.jar");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_HOME", home.toString(), "TRELLIS_SPARK_MODE", "cluster",
                "TRELLIS_SPARK_HOME", "/opt/spark", "TRELLIS_SPARK_JOBS_JAR", "/j.jar")))
                .isInstanceOf(TrellisException.class).hasMessageContaining("was 'local[*]'");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_HOME", home.toString(), "TRELLIS_SPARK_MODE", "cluster",
                "TRELLIS_SPARK_MASTER", "yarn", "TRELLIS_SPARK_HOME", "/opt/spark", "TRELLIS_SPARK_JOBS_JAR", "/j.jar",
                "TRELLIS_SPARK_DEPLOY_MODE", "both")))
                .isInstanceOf(TrellisException.class).hasMessageContaining("client or cluster, was 'both'");
    }
}
