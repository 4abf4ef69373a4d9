package io.trellis.activities.spark.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.spark.SparkSessions;
import io.trellis.spark.usage.ResourceUsage;
import io.trellis.spark.usage.ResourceUsageListener;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live usage estimate against what Spark itself serves and counts for the same jobs: a real local session with its
 * UI on (the REST status API a client-mode driver serves the launcher), jobs that write, read, shuffle and aggregate,
 * then the stage and job JSON fetched from {@code /api/v1/applications/{id}/...} is estimated by {@link LiveUsage} and
 * compared with the {@link ResourceUsageListener}'s usage of the same job group (what a job's report carries).
 *
 * <p>Its own session (not {@code TestingSpark}'s, whose UI is off), stopped at the end; no other unit test of this module
 * starts Spark.
 */
class LiveUsageTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GROUP = "trellis-job";
    private static SparkSession spark;
    private static int uiPort;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startSessionWithUi() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            uiPort = socket.getLocalPort();
        }
        spark = SparkSessions.localBuilder("trellis live usage test", "local[2]")
                .config("spark.ui.enabled", "true")
                .config("spark.ui.port", Integer.toString(uiPort))
                .config("spark.port.maxRetries", "0")
                .config("spark.ui.showConsoleProgress", "false")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
    }

    @AfterAll
    static void stopSession() {
        if (spark != null) {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }

    private static JsonNode get(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + uiPort + "/api/v1/applications" + path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    @Test
    void theRestStagesOfAnApplicationEstimateWhatItsListenerCounted() throws Exception {
        ResourceUsageListener listener = ResourceUsageListener.on(spark.sparkContext());
        String table = tmp.resolve("t").toUri().toString();
        spark.sparkContext().setJobGroup(GROUP, "live usage", false);
        try {
            spark.range(0, 60_000, 1, 4).selectExpr("id", "id % 7 AS k", "uuid() AS u").write().parquet(table);
            assertThat(spark.read().parquet(table).groupBy("k").count().collectAsList()).hasSize(7);
        } finally {
            spark.sparkContext().clearJobGroup();
        }
        assertThat(listener.awaitEvents(Duration.ofSeconds(30))).isTrue();
        ResourceUsage counted = listener.take(GROUP);

        JsonNode apps = get("");
        assertThat(apps).hasSize(1);
        assertThat(apps.get(0).path("name").asText()).isEqualTo("trellis live usage test");
        String id = apps.get(0).path("id").asText();
        ResourceUsage estimated = LiveUsage.estimate(get("/" + id + "/jobs"), get("/" + id + "/stages"));
        System.out.println("listener: " + counted + "\nREST estimate: " + estimated);

        // What Spark sums per stage is what the listener sums per task.
        assertThat(counted.tasks()).isPositive();
        assertThat(counted.bytesWritten()).isPositive();
        assertThat(counted.bytesRead()).isPositive();
        assertThat(counted.shuffleWriteBytes()).isPositive();
        assertThat(counted.executorRunMillis()).isPositive();
        assertThat(estimated.jobs()).isEqualTo(counted.jobs());
        assertThat(estimated.tasks()).isEqualTo(counted.tasks());
        assertThat(estimated.failedTasks()).isEqualTo(counted.failedTasks());
        assertThat(estimated.executorRunMillis()).isEqualTo(counted.executorRunMillis());
        assertThat(estimated.executorCpuNanos()).isEqualTo(counted.executorCpuNanos());
        assertThat(estimated.bytesRead()).isEqualTo(counted.bytesRead());
        assertThat(estimated.recordsRead()).isEqualTo(counted.recordsRead());
        assertThat(estimated.bytesWritten()).isEqualTo(counted.bytesWritten());
        assertThat(estimated.recordsWritten()).isEqualTo(counted.recordsWritten()).isEqualTo(60_000);
        assertThat(estimated.shuffleReadBytes()).isEqualTo(counted.shuffleReadBytes());
        assertThat(estimated.shuffleWriteBytes()).isEqualTo(counted.shuffleWriteBytes());
        // Estimated from stage sums: the largest per-stage mean of the tasks' peaks is at most the largest peak.
        assertThat(estimated.peakExecutionMemoryBytes()).isLessThanOrEqualTo(counted.peakExecutionMemoryBytes());
        if (counted.memoryByteMillis() > 0) {
            assertThat(estimated.memoryByteMillis()).isPositive();
        }
    }
}
