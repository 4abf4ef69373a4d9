package io.trellis.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LakeTest {
    @Test
    void resolvesRelativeNamesUnderTheRoot() {
        assertThat(new Lake("/data/lake").resolve("raw/customer_churn")).isEqualTo("/data/lake/raw/customer_churn");
        assertThat(new Lake("s3a://bucket/lake/").resolve("raw/t")).isEqualTo("s3a://bucket/lake/raw/t");
    }

    @Test
    void absolutePathsAndUrisPassThrough() {
        Lake lake = new Lake("/data/lake");
        assertThat(lake.resolve("/tmp/t")).isEqualTo("/tmp/t");
        assertThat(lake.resolve("s3a://b/t")).isEqualTo("s3a://b/t");
        assertThat(lake.resolve("file:/tmp/t")).isEqualTo("file:/tmp/t");
    }

    @Test
    void jobArgumentsParseNameValuePairsAndRejectUnknownNames() {
        JobArguments a = JobArguments.parse("x", new String[] {"--table", "/t", "--rows=5"}, Set.of("table", "rows"));
        assertThat(a.require("table")).isEqualTo("/t");
        assertThat(a.getLong("rows", 1)).isEqualTo(5);
        assertThat(a.getLong("missing", 9)).isEqualTo(9);
        assertThatThrownBy(() -> JobArguments.parse("x", new String[] {"--nope", "1"}, Set.of("table")))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("unknown argument --nope").hasMessageContaining("--table");
        assertThatThrownBy(() -> a.require("other")).hasMessageContaining("missing required argument --other");
    }

    @Test
    void reportsAreJson() {
        assertThat(JobMain.toJson(new DatasetVersion("/t", 3))).contains("\"tablePath\" : \"/t\"").contains("\"version\" : 3");
    }
}
