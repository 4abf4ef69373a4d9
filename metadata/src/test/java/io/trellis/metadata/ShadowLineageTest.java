package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A promotion's shadow run in lineage: v1 live in production, v2 promoted to staging and shadowed against v1 on source
 * version 5; the shadow predictions version is linked to both model versions, the promotion and the source version.
 */
class ShadowLineageTest {
    private static final String MODEL = "churn";
    private static final String SHADOW_PROMOTION = "promote/churn/v2/staging";
    private static MetadataStore store;
    private static Registry registry;
    private static DatasetVersionRecord shadowPredictions;

    @BeforeAll
    static void history() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(ShadowLineageTest.class));
        registry = store.registry();
        Registry r = registry;
        r.grantRoles("carol", Set.of(PrincipalRole.APPROVER), "admin");
        r.applyModelSpec(MODEL, "name: churn", "spec-sha", null, "alice");
        retrain(r, 1, 3);
        retrain(r, 2, 5);
        String first = "promote/churn/v1/production";
        r.openPromotion(first, MODEL, 1, "production", "alice", null);
        r.recordStage(first, Map.of("environment", "staging", "passed", true), AuditOutcome.SUCCESS);
        r.deploy(first, "staging", "worker");
        r.awaitApproval(first);
        r.decide(first, "carol", Decision.APPROVED, null);
        r.deploy(first, "production", "worker");
        r.finishPromotion(first, PromotionStatus.DEPLOYED, null, "worker");

        r.openPromotion(SHADOW_PROMOTION, MODEL, 2, "staging", "alice", null);
        shadowPredictions = r.recordDatasetVersion("predictions/churn/staging", 4, 600, DatasetKind.PREDICTIONS, null);
        r.recordShadowLineage(SHADOW_PROMOTION, MODEL, 2, 1, shadowPredictions.id(), "raw/churn", 5L);
        // recording it again (a retried activity) changes nothing
        r.recordShadowLineage(SHADOW_PROMOTION, MODEL, 2, 1, shadowPredictions.id(), "raw/churn", 5L);
    }

    @AfterAll
    static void close() {
        store.close();
    }

    private static void retrain(Registry r, int version, long sourceVersion) {
        String runKey = "retrain/churn/" + version;
        r.startRun(runKey, "wf", MODEL, "alice", "weekly", "spec-sha", "code");
        r.recordRunInput(runKey, r.recordDatasetVersion("raw/churn", sourceVersion, 1000, DatasetKind.RAW, null).id(), "source");
        r.registerModelVersion(new ModelVersionRegistration(runKey, "lr", "file:/a/" + version, "sha-" + version, 10L, Map.of(),
                Map.of("auc", 0.8), null, null, List.of(), ModelVersionStatus.REGISTERED, "code", "worker"));
        r.finishRun(runKey, RunStatus.SUCCEEDED, null, null, "worker");
    }

    @Test
    void theProducerOfAShadowPredictionNamesBothVersionsAndThePromotion() {
        assertThat(store.lineageQueries().predictionProducers("predictions/churn/staging", 4))
                .extracting(PredictionProducer::version, PredictionProducer::promotionKey, PredictionProducer::rowCount)
                .containsExactly(tuple(1, SHADOW_PROMOTION, 600L), tuple(2, SHADOW_PROMOTION, 600L));
    }

    @Test
    void downstreamOfTheSourceVersionTheShadowReadReachesItsPredictions() {
        DownstreamLineage fromV5 = store.lineageQueries().downstream("raw/churn", null);
        assertThat(fromV5.ofKind(LineageNode.DATASET_VERSION)).extracting(LineageNode::label)
                .contains("predictions/churn/staging @ Delta v4");
        // Only the source version the shadow read (and v2, trained on it) lead there: v1's source (Delta v3) reaches it
        // through v1, which scored it, but not directly.
        assertThat(store.lineageQueries().downstream("raw/churn", 3L).ofKind(LineageNode.DATASET_VERSION))
                .filteredOn(n -> "predictions/churn/staging".equals(n.tablePath()))
                .singleElement().satisfies(n -> assertThat(n.relation()).isEqualTo(Registry.SCORED_RELATION));
        assertThat(store.lineageQueries().downstream("raw/churn", null).ofKind(LineageNode.DATASET_VERSION))
                .filteredOn(n -> "predictions/churn/staging".equals(n.tablePath()))
                .singleElement().satisfies(n -> assertThat(n.depth()).isEqualTo(1));
    }

    @Test
    void anUnknownPromotionOrVersionIsATypedError() {
        assertThatThrownBy(() -> registry.recordShadowLineage("promote/churn/v9/staging", MODEL, 2, 1, shadowPredictions.id(), null, null))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("No promotion 'promote/churn/v9/staging' is recorded");
        assertThatThrownBy(() -> registry.recordShadowLineage(SHADOW_PROMOTION, MODEL, 7, 1, shadowPredictions.id(), null, null))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_MODEL_VERSION));
    }
}
