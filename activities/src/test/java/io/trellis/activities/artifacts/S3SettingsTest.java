package io.trellis.activities.artifacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class S3SettingsTest {
    @Test
    void parsesTheRootEndpointAndEncryption() {
        S3Settings s = S3Settings.parse("s3://ml-artifacts/prod/models/", Optional.of("http://minio:9000"), true, "eu-west-1", "aws:kms:alias/trellis");
        assertThat(s.bucket()).isEqualTo("ml-artifacts");
        assertThat(s.prefix()).isEqualTo("prod/models");
        assertThat(s.endpoint()).contains(URI.create("http://minio:9000"));
        assertThat(s.sse()).isEqualTo(S3Settings.Sse.KMS);
        assertThat(s.kmsKeyId()).contains("alias/trellis");
        assertThat(S3Settings.parse("s3://b", Optional.empty(), false, "us-east-1", "AES256").sse()).isEqualTo(S3Settings.Sse.AES256);
        assertThat(S3Settings.parse("s3://b", Optional.empty(), false, "us-east-1", "").prefix()).isEmpty();
    }

    @Test
    void malformedValuesNameTheSetting() {
        assertThatThrownBy(() -> S3Settings.parse("s3:///prefix", Optional.empty(), false, "us-east-1", ""))
                .hasMessageContaining("trellis.artifact.root (TRELLIS_ARTIFACT_ROOT) 's3:///prefix' must look like s3://bucket/prefix");
        assertThatThrownBy(() -> S3Settings.parse("s3://b", Optional.of("minio:9000"), false, "us-east-1", ""))
                .hasMessageContaining("trellis.s3.endpoint (TRELLIS_S3_ENDPOINT) 'minio:9000' must be an http:// or https:// URL");
        assertThatThrownBy(() -> S3Settings.parse("s3://b", Optional.empty(), false, "us-east-1", "rot13"))
                .hasMessageContaining("trellis.s3.sse (TRELLIS_S3_SSE) 'rot13' must be none, AES256, aws:kms or aws:kms:<key id>");
    }
}
