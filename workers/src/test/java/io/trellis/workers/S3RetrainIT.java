package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.activities.artifacts.S3ArtifactStore;
import io.trellis.activities.artifacts.TestingS3Server;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.metadata.LineageChain;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.metadata.Registry;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Real retrains whose Delta lake ({@code s3a://}) and model artifacts ({@code s3://}) both live in an S3-compatible
 * server (S3Proxy on loopback, its own process), configured only through the settings a user would set; the
 * credentials reach S3A and the artifact store only through the AWS SDK's default provider chain.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3RetrainIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private static final String LAKE_BUCKET = "ml-lake";
    private static final String ARTIFACT_BUCKET = "ml-artifacts";

    @TempDir
    static Path tmp;
    private TestingS3Server s3;
    private S3Client admin;
    private TrellisRuntime runtime;

    @BeforeAll
    void startStack() throws Exception {
        s3 = TestingS3Server.start(tmp);
        admin = s3.client();
        admin.createBucket(b -> b.bucket(LAKE_BUCKET));
        admin.createBucket(b -> b.bucket(ARTIFACT_BUCKET));
        // the AWS SDK's default provider chain reads these (as it would AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)
        System.setProperty("aws.accessKeyId", TestingS3Server.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", TestingS3Server.SECRET_KEY);
        Map<String, String> env = new HashMap<>(TestingTrellisConfig.settings(S3RetrainIT.class));
        env.put("TRELLIS_LAKE_ROOT", "s3a://" + LAKE_BUCKET + "/lake");
        env.put("TRELLIS_ARTIFACT_ROOT", "s3://" + ARTIFACT_BUCKET + "/trellis");
        env.put("TRELLIS_S3_ENDPOINT", s3.endpoint().toString());
        env.put("TRELLIS_S3_PATH_STYLE", "true");
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), env));
        new LocalRetrain(runtime, quiet()).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        String yaml = SampleModels.customerChurnYaml();
        var spec = ModelSpecLoader.parse(yaml);
        runtime.registry().applyModelSpec(spec.name(), yaml, ModelSpecLoader.sha256(yaml), spec.environments(), "alice");
    }

    @AfterAll
    void stopStack() throws Exception {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        if (runtime != null) {
            runtime.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    private RetrainRunner.Outcome retrain(String reason) {
        return new RetrainRunner(runtime, quiet()).run(new RetrainRequest(MODEL, "alice", reason));
    }

    private List<String> keys(String bucket, String prefix) {
        return admin.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream().map(S3Object::key).toList();
    }

    @Test
    void retrainsReadAndWriteTheDeltaLakeInS3AndStoreTheirArtifactsThere() {
        assertThat(runtime.config().lakeS3a()).isPresent();
        assertThat(runtime.artifactStore()).isInstanceOf(S3ArtifactStore.class);
        String source = runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE);
        String features = SparkActivitiesImpl.featureTable(runtime.lake(), MODEL);
        assertThat(source).startsWith("s3a://" + LAKE_BUCKET + "/lake/");
        assertThat(keys(LAKE_BUCKET, "lake/" + SampleModels.CUSTOMER_CHURN_TABLE + "/_delta_log/")).contains(
                "lake/" + SampleModels.CUSTOMER_CHURN_TABLE + "/_delta_log/00000000000000000000.json");
        long sourceVersion = DeltaTables.latestVersion(runtime.spark(), source);

        RetrainRunner.Outcome first = retrain("s3 lake, first");
        assertThat(first.status()).isEqualTo(RunStatus.SUCCEEDED);
        RetrainResult r1 = first.result();
        assertThat(r1.source().tablePath()).isEqualTo(source);
        assertThat(r1.source().version()).isEqualTo(sourceVersion);
        assertThat(r1.source().rowCount()).isEqualTo(3_000);
        assertThat(DeltaTables.latestVersion(runtime.spark(), features)).isZero();
        assertThat(DeltaTables.userMetadata(runtime.spark(), features)).containsExactly(r1.runKey());

        RetrainRunner.Outcome second = retrain("s3 lake, second");
        assertThat(second.status()).isEqualTo(RunStatus.SUCCEEDED);
        RetrainResult r2 = second.result();
        assertThat(r2.championVersion()).isEqualTo(1);
        // Each run committed its features once, as its own Delta version in S3; the source was only read.
        assertThat(DeltaTables.latestVersion(runtime.spark(), features)).isEqualTo(1);
        assertThat(DeltaTables.userMetadata(runtime.spark(), features)).containsExactlyInAnyOrder(r1.runKey(), r2.runKey());
        assertThat(DeltaTables.latestVersion(runtime.spark(), source)).isEqualTo(sourceVersion);
        // time travel on s3a: version 0 of the features is still the first run's
        assertThat(runtime.spark().read().format("delta").option("versionAsOf", 0).load(features).count())
                .isEqualTo(runtime.spark().read().format("delta").option("versionAsOf", 1).load(features).count());
        String featureKey = features.substring(("s3a://" + LAKE_BUCKET + "/").length());
        assertThat(keys(LAKE_BUCKET, featureKey + "/_delta_log/")).contains(
                featureKey + "/_delta_log/00000000000000000000.json", featureKey + "/_delta_log/00000000000000000001.json");
        assertThat(keys(LAKE_BUCKET, featureKey + "/")).anyMatch(k -> k.endsWith(".parquet"));

        // Lineage names the S3 tables and their Delta versions.
        Registry registry = runtime.registry();
        for (int v = 1; v <= 2; v++) {
            LineageChain chain = registry.lineage(MODEL, v);
            assertThat(chain.inputs()).extracting(i -> i.relation() + "=" + i.dataset().tablePath() + "@" + i.dataset().deltaVersion())
                    .containsExactlyInAnyOrder("source=" + source + "@" + sourceVersion, "features=" + features + "@" + (v - 1));
            ModelVersionRecord version = registry.version(MODEL, v).orElseThrow();
            assertThat(version.artifactUri()).startsWith("s3://" + ARTIFACT_BUCKET + "/trellis/" + MODEL + "/");
        }
        // Nothing of the lake or the artifacts was written to local folders.
        assertThat(runtime.config().home().resolve("lake")).doesNotExist();
        assertThat(runtime.config().home().resolve("artifacts")).doesNotExist();
        assertThat(keys(ARTIFACT_BUCKET, "trellis/" + MODEL + "/")).anyMatch(k -> k.endsWith("MANIFEST"));
    }
}
