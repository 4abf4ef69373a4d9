package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.TaskQueues;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trellis.worker.queues} and {@code trellis.temporal.codec.cors.origins}. */
class WorkerQueuesConfigTest {
    @TempDir
    Path tmp;

    private TrellisConfig load(Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        all.put("TRELLIS_HOME", tmp.toString());
        all.put("TRELLIS_CODE_VERSION", "v");
        return TrellisConfig.load(Optional.empty(), all);
    }

    private TrellisConfig withQueues(String queues) {
        return load(Map.of("TRELLIS_TEMPORAL_ADDRESS", "temporal:7233", "TRELLIS_WORKER_QUEUES", queues));
    }

    @Test
    void bothQueuesByDefaultOrOneOfThem() {
        assertThat(load(Map.of()).workerQueues()).isEqualTo(WorkerQueues.ALL);
        assertThat(WorkerQueues.ALL.taskQueues()).containsExactly(TaskQueues.ORCHESTRATION, TaskQueues.SPARK);
        assertThat(withQueues("orchestration,spark").workerQueues()).isEqualTo(WorkerQueues.ALL);
        assertThat(withQueues(" Spark , orchestration ").workerQueues()).isEqualTo(WorkerQueues.ALL);
        assertThat(withQueues("orchestration").workerQueues()).satisfies(q -> {
            assertThat(q).isEqualTo(WorkerQueues.ORCHESTRATION);
            assertThat(q.taskQueues()).containsExactly(TaskQueues.ORCHESTRATION);
            assertThat(q.pollsSpark()).isFalse();
        });
        assertThat(withQueues("SPARK").workerQueues()).satisfies(q -> {
            assertThat(q).isEqualTo(WorkerQueues.SPARK);
            assertThat(q.taskQueues()).containsExactly(TaskQueues.SPARK);
            assertThat(q.pollsOrchestration()).isFalse();
        });
        assertThat(withQueues("spark").toString()).contains("workerQueues=spark");
    }

    @Test
    void anythingElseIsAnInvalidRequestNamingTheSettingAndTheAllowedValues() {
        for (String bad : new String[] {"heavy", "spark,", "spark,spark", "orchestration;spark", "trellis-spark", ",", "spark,orchestration,x"}) {
            assertThatThrownBy(() -> withQueues(bad)).as(bad).isInstanceOfSatisfying(TrellisException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                    .hasMessage("trellis.worker.queues (TRELLIS_WORKER_QUEUES) must be one of 'orchestration,spark' (both task queues),"
                            + " 'orchestration' (workflows and light steps) or 'spark' (Spark steps), got '" + bad + "'");
        }
    }

    @Test
    void oneQueueAloneNeedsATemporalClusterBecauseTheEmbeddedServerHasNoOtherWorker() {
        assertThatThrownBy(() -> load(Map.of("TRELLIS_WORKER_QUEUES", "spark"))).isInstanceOf(TrellisException.class)
                .hasMessageContaining("trellis.worker.queues=spark needs trellis.temporal.address (TRELLIS_TEMPORAL_ADDRESS)");
        assertThat(load(Map.of("TRELLIS_WORKER_QUEUES", "orchestration,spark")).workerQueues()).isEqualTo(WorkerQueues.ALL);
    }

    @Test
    void codecCorsOriginsAreExactOrigins() {
        assertThat(load(Map.of()).codecCorsOrigins()).isEmpty();
        assertThat(load(Map.of("TRELLIS_TEMPORAL_CODEC_CORS_ORIGINS", "http://localhost:8233, https://temporal.example.com"))
                .codecCorsOrigins()).containsExactly("http://localhost:8233", "https://temporal.example.com");
        for (String bad : new String[] {"*", "localhost:8233", "http://localhost:8233/", "https://ui.example.com/path", "ftp://x"}) {
            assertThatThrownBy(() -> load(Map.of("TRELLIS_TEMPORAL_CODEC_CORS_ORIGINS", bad))).as(bad).isInstanceOf(TrellisException.class)
                    .hasMessageContaining("trellis.temporal.codec.cors.origins (TRELLIS_TEMPORAL_CODEC_CORS_ORIGINS) must list origins")
                    .hasMessageEndingWith("got '" + bad + "'");
        }
    }
}
