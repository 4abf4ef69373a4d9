package io.trellis.activities.spark.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.activities.spark.UsageLabels;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.JobMain;
import io.trellis.spark.usage.ResourceUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster-mode attempt's usage row from its job's report, written the way {@code JobMain} writes it (its JSON writer and
 * the {@link ResourceUsage} record), including the attempts that left no report.
 */
class ClusterUsageTest {
    private static final UsageLabels LABELS = new UsageLabels("customer-churn", "dev");
    private static final ResourceUsage USED = new ResourceUsage(3, 12, 1, 4_500, 3_900_000_000L, 81_920, 2_000, 40_960, 1_600,
            7_000, 6_500, 33_554_432, 9_000_000_000L, 812);

    @TempDir
    Path tmp;

    @Test
    void aReportsUsageAndApplicationIdBecomeTheAttemptsRowWithTheWorkersWallTime() throws IOException {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("job", "features");
        report.put("ok", true);
        report.put("result", Map.of("version", 0));
        report.put("applicationId", "app-20261202033000-0004");
        report.put("usage", USED);
        Path file = Files.writeString(tmp.resolve(SparkSubmitLauncher.REPORT_FILE), JobMain.toJson(report));

        ClusterUsage.Reported reported = ClusterUsage.read(file);
        ResourceUsageRecord row = ClusterUsage.record("retrain/customer-churn/r1", "run-1", "5", "BuildFeatures", 2, "build features",
                "trellis build features retrain/customer-churn/r1 attempt 2", LABELS, UsageOutcome.SUCCEEDED, reported, 21_000);

        assertThat(reported.usage()).isEqualTo(USED);
        assertThat(row).isEqualTo(new ResourceUsageRecord("retrain/customer-churn/r1", "run-1", "5", "BuildFeatures", 2, "build features",
                "customer-churn", "dev", UsageOutcome.SUCCEEDED, "app-20261202033000-0004", 3, 12, 1, 4_500, 3_900_000_000L, 81_920,
                2_000, 40_960, 1_600, 7_000, 6_500, 33_554_432, 9_000_000_000L, 21_000, null));
    }

    @Test
    void anAttemptWithoutAReportOrWithoutUsageInItIsRecordedWithItsOutcomeAndWallTimeOnly() throws IOException {
        ClusterUsage.Reported none = ClusterUsage.read(tmp.resolve("missing").resolve(SparkSubmitLauncher.REPORT_FILE));
        Path failedEarly = Files.writeString(tmp.resolve("early.json"),
                "{\"job\":\"validate\",\"ok\":false,\"errorCode\":\"INVALID_REQUEST\",\"message\":\"unknown argument --lak\"}");
        Path garbled = Files.writeString(tmp.resolve("garbled.json"), "{\"job\":");

        assertThat(none).isEqualTo(ClusterUsage.Reported.NOTHING);
        assertThat(ClusterUsage.read(failedEarly)).isEqualTo(ClusterUsage.Reported.NOTHING);
        assertThat(ClusterUsage.read(garbled)).isEqualTo(ClusterUsage.Reported.NOTHING);
        ResourceUsageRecord row = ClusterUsage.record("retrain/m/r2", "run-2", "7", "Train", 1, "train", "trellis train retrain/m/r2 attempt 1",
                LABELS, UsageOutcome.CANCELLED, none, 4_321);
        assertThat(row.outcome()).isEqualTo(UsageOutcome.CANCELLED);
        assertThat(row.sparkJobGroup()).as("no application id known: the application's name").isEqualTo("trellis train retrain/m/r2 attempt 1");
        assertThat(row.wallMs()).isEqualTo(4_321);
        assertThat(new long[] {row.jobs(), row.tasks(), row.executorRunMs(), row.executorCpuNs(), row.bytesRead(), row.recordsRead(),
                row.bytesWritten(), row.memoryByteMs()}).containsOnly(0L);
    }
}
