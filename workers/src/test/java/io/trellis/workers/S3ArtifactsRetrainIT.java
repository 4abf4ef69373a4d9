package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.activities.artifacts.S3ArtifactStore;
import io.trellis.activities.artifacts.TestingS3Server;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.metadata.Registry;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * Two real retrains whose model artifacts live in S3 (S3Proxy on loopback), configured only through the
 * settings a user would set: the second retrain scores its champion with the artifact fetched back from S3.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3ArtifactsRetrainIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private static final String BUCKET = "ml-artifacts";

    @TempDir
    static Path tmp;
    private TestingS3Server s3;
    private S3Client admin;
    private TrellisRuntime runtime;

    @BeforeAll
    void startStack() throws Exception {
        s3 = TestingS3Server.start(tmp);
        admin = s3.client();
        admin.createBucket(b -> b.bucket(BUCKET));
        // the AWS SDK's default provider chain reads these (as it would AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)
        System.setProperty("aws.accessKeyId", TestingS3Server.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", TestingS3Server.SECRET_KEY);
        Map<String, String> env = new HashMap<>(TestingTrellisConfig.settings(S3ArtifactsRetrainIT.class));
        env.put("TRELLIS_ARTIFACT_ROOT", "s3://" + BUCKET + "/trellis");
        env.put("TRELLIS_S3_ENDPOINT", s3.endpoint().toString());
        env.put("TRELLIS_S3_PATH_STYLE", "true");
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), env));
        new LocalRetrain(runtime, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).generateSampleData(
                new SampleDataOptions(runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0),
                "loader");
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

    private RetrainRunner.Outcome retrain() {
        return new RetrainRunner(runtime, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
                .run(new RetrainRequest(MODEL, "alice", "s3 artifacts"));
    }

    @Test
    void retrainsStoreTheirArtifactsInS3AndTheChampionIsFetchedBackVerified() throws Exception {
        assertThat(runtime.artifactStore()).isInstanceOf(S3ArtifactStore.class);
        RetrainRunner.Outcome first = retrain();
        assertThat(first.status()).isEqualTo(RunStatus.SUCCEEDED);
        Registry registry = runtime.registry();
        ModelVersionRecord v1 = registry.version(MODEL, 1).orElseThrow();
        assertThat(v1.artifactUri()).startsWith("s3://" + BUCKET + "/trellis/" + MODEL + "/");
        String base = v1.artifactUri().substring(("s3://" + BUCKET + "/").length());
        List<String> keys = admin.listObjectsV2(b -> b.bucket(BUCKET).prefix(base)).contents().stream().map(S3Object::key).toList();
        assertThat(keys).contains(base + "MANIFEST");
        assertThat(keys).anyMatch(k -> k.contains("/metadata/part-00000")).anyMatch(k -> k.contains("/stages/") && k.endsWith(".parquet"));
        assertThat(keys.stream().filter(k -> k.contains("/g-")).map(k -> k.substring(base.length()).split("/")[0]).distinct()).hasSize(1);
        // nothing of the artifact was written to a local store
        assertThat(runtime.config().home().resolve("artifacts")).doesNotExist();

        RetrainRunner.Outcome second = retrain();
        assertThat(second.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(second.result().championVersion()).isEqualTo(1);
        assertThat(second.result().championMetrics()).containsKey("auc");
        // the champion was scored from the copy fetched from S3, cached under its checksum
        assertThat(Files.isDirectory(runtime.config().artifactRoot().resolve(v1.artifactSha256()))).isTrue();
        assertThat(registry.version(MODEL, 2).orElseThrow().artifactUri()).startsWith("s3://" + BUCKET + "/trellis/");
    }
}
