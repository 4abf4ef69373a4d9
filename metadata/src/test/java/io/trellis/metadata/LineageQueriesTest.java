package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lineage queries over a real history: two retrains of one model from two Delta versions of its source,
 * v1 promoted to production with an approval, then scored; v2 only a dev candidate. Plus bad input.
 */
class LineageQueriesTest {
    private static final String MODEL = "churn";
    private static DatabaseConfig db;
    private static MetadataStore store;
    private static LineageQueries lineage;
    private static Instant beforeProduction;
    private static Instant afterProduction;
    private static long predictionsVersion;

    @BeforeAll
    static void history() throws Exception {
        db = TestingPostgreSqlServer.createDatabase(LineageQueriesTest.class);
        store = MetadataStore.open(db);
        lineage = store.lineageQueries();
        Registry r = store.registry();
        r.grantRoles("carol", Set.of(PrincipalRole.APPROVER), "admin");
        r.applyModelSpec(MODEL, "name: churn", "spec-sha", null, "alice");
        r.applyModelSpec("other", "name: other", "spec-sha", null, "alice");

        retrain(r, MODEL, 1, "raw/churn", 3, 0);
        retrain(r, MODEL, 2, "raw/churn", 5, 1);
        retrain(r, "other", 1, "raw/other", 0, 0);
        r.markCandidate("retrain/churn/1", MODEL, 1, "dev", "worker");
        beforeProduction = Instant.now();
        String key = "promote/churn/v1/production";
        r.openPromotion(key, MODEL, 1, "production", "alice", "better auc");
        r.recordStage(key, Map.of("environment", "staging", "passed", true, "gates", List.of(Map.of("gate", "auc", "passed", true))),
                AuditOutcome.SUCCESS);
        r.deploy(key, "staging", "worker");
        r.awaitApproval(key);
        r.decide(key, "carol", Decision.APPROVED, "shadow agrees");
        r.deploy(key, "production", "worker");
        r.finishPromotion(key, PromotionStatus.DEPLOYED, null, "worker");
        afterProduction = Instant.now();
        r.markCandidate("retrain/churn/2", MODEL, 2, "dev", "worker");

        DatasetVersionRecord predictions = r.recordDatasetVersion("predictions/churn/production", 0, 100, DatasetKind.PREDICTIONS, null);
        predictionsVersion = predictions.deltaVersion();
        r.recordScoringLineage(MODEL, 1, predictions.id(), "raw/churn", 5);
    }

    @AfterAll
    static void close() {
        store.close();
    }

    private static void retrain(Registry r, String model, int version, String source, long sourceVersion, long featureVersion) {
        String runKey = "retrain/" + model + "/" + version;
        r.startRun(runKey, "wf", model, "alice", "weekly", "spec-sha", "code-" + version);
        DatasetVersionRecord raw = r.recordDatasetVersion(source, sourceVersion, 1000 + sourceVersion, DatasetKind.RAW, null);
        r.recordRunInput(runKey, raw.id(), "source");
        DatasetVersionRecord features = r.recordDatasetVersion("features/" + model, featureVersion, 900, DatasetKind.FEATURES, null);
        r.recordRunInput(runKey, features.id(), Registry.FEATURES_RELATION);
        r.registerModelVersion(new ModelVersionRegistration(runKey, "lr", "file:/a/" + runKey, "art-sha-" + version, 10L,
                Map.of("seed", 42, "regParam", 0.01), Map.of("auc", 0.8 + version / 100.0), null, null,
                List.of(Map.of("gate", "auc >= 0.7", "passed", true)), ModelVersionStatus.REGISTERED, "code-" + version, "worker"));
        r.finishRun(runKey, RunStatus.SUCCEEDED, null, null, "worker");
    }

    @Test
    void upstreamNamesInputsRunParametersGatesApproversAndDeployments() {
        UpstreamLineage up = lineage.upstream(MODEL, 1);

        assertThat(up.upstream()).filteredOn(n -> n.kind().equals(LineageNode.DATASET_VERSION))
                .extracting(LineageNode::relation, LineageNode::tablePath, LineageNode::deltaVersion, LineageNode::depth)
                .containsExactlyInAnyOrder(tuple("features", "features/churn", 0L, 2), tuple("source", "raw/churn", 3L, 2));
        assertThat(up.upstream()).filteredOn(n -> n.kind().equals(LineageNode.TRAINING_RUN))
                .extracting(LineageNode::runKey, LineageNode::depth).containsExactly(tuple("retrain/churn/1", 1));
        assertThat(up.run().triggeredBy()).isEqualTo("alice");
        assertThat(up.run().codeVersion()).isEqualTo("code-1");
        assertThat(up.version().params()).containsEntry("seed", 42);
        assertThat(up.version().gateResults()).singleElement().satisfies(g -> assertThat(g).containsEntry("passed", true));
        assertThat(up.promotions()).singleElement().satisfies(p -> {
            assertThat(p.decidedBy()).isEqualTo("carol");
            assertThat(p.requestedBy()).isEqualTo("alice");
            assertThat(p.stage("staging")).isPresent();
        });
        assertThat(up.deployments()).extracting(DeploymentRecord::environment, DeploymentRecord::role)
                .contains(tuple("production", DeploymentRole.LIVE), tuple("staging", DeploymentRole.LIVE));
        assertThat(up.history()).extracting(AuditEntry::action).contains("model.registered", "promotion.approved");
    }

    @Test
    void downstreamOfASourceFindsRunsVersionsEnvironmentsAndPredictions() {
        DownstreamLineage all = lineage.downstream("raw/churn");

        assertThat(all.ofKind(LineageNode.TRAINING_RUN)).extracting(LineageNode::runKey)
                .containsExactlyInAnyOrder("retrain/churn/1", "retrain/churn/2");
        assertThat(all.ofKind(LineageNode.MODEL_VERSION)).extracting(LineageNode::label)
                .containsExactlyInAnyOrder("churn v1 (REGISTERED)", "churn v2 (REGISTERED)");
        assertThat(all.ofKind(LineageNode.DATASET_VERSION)).extracting(LineageNode::label)
                .contains("raw/churn @ Delta v3", "raw/churn @ Delta v5", "predictions/churn/production @ Delta v0");
        assertThat(all.deployments()).extracting(d -> d.environment() + " v" + d.version())
                .contains("production v1", "staging v1", "dev v1", "dev v2");
        assertThat(all.nodes()).noneMatch(n -> "other".equals(n.modelName()));

        // Up to Delta v3: only what v3 fed (run 1, v1 and its predictions), not v5's run 2.
        DownstreamLineage upTo3 = lineage.downstream("raw/churn", 3L);
        assertThat(upTo3.ofKind(LineageNode.MODEL_VERSION)).extracting(LineageNode::version).containsExactly(1);
        assertThat(upTo3.ofKind(LineageNode.DATASET_VERSION)).extracting(LineageNode::label)
                .contains("predictions/churn/production @ Delta v0");
        assertThat(upTo3.deployments()).extracting(DeploymentRecord::version).containsOnly(1);
    }

    @Test
    void liveAtAnInstantAndTheProducerOfAPredictionRow() {
        assertThat(lineage.liveAt(MODEL, beforeProduction)).isEmpty();
        assertThat(lineage.liveAt(MODEL, afterProduction)).extracting(LiveVersion::environment, LiveVersion::version)
                .containsExactly(tuple("staging", 1), tuple("production", 1));
        assertThat(lineage.predictionProducers("predictions/churn/production", predictionsVersion))
                .extracting(PredictionProducer::modelName, PredictionProducer::version).containsExactly(tuple(MODEL, 1));
    }

    @Test
    void sqlViewsGiveAuditorsTheSameAnswers() throws Exception {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT decided_by, decision FROM promotion_approvals WHERE model_name = 'churn'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("carol");
                assertThat(rs.getString(2)).isEqualTo("APPROVED");
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM deployment_history WHERE model_name = 'churn' AND role = 'live'")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_trail WHERE row_hash IS NOT NULL")) {
                rs.next();
                assertThat(rs.getInt(1)).isPositive();
            }
        }
    }

    @Test
    void badInputGetsTypedErrorsAndInjectionIsJustAnUnknownName() throws Exception {
        assertCode(() -> lineage.upstream("nope", 1), ErrorCode.UNKNOWN_MODEL).hasMessageContaining("Registered models: churn, other");
        assertCode(() -> lineage.upstream(MODEL, 9), ErrorCode.UNKNOWN_MODEL_VERSION).hasMessageContaining("its versions are 1 to 2");
        assertCode(() -> lineage.upstream(MODEL, 0), ErrorCode.INVALID_REQUEST);
        assertCode(() -> lineage.upstream("x".repeat(10_000), 1), ErrorCode.INVALID_REQUEST).hasMessageContaining("at most 512");
        assertCode(() -> lineage.downstream("raw/nothing"), ErrorCode.MISSING_TABLE).hasMessageContaining("raw/churn");
        assertCode(() -> lineage.downstream("raw/churn", -1L), ErrorCode.INVALID_REQUEST);
        assertCode(() -> lineage.downstream("raw/churn", 2L), ErrorCode.MISSING_TABLE);
        assertCode(() -> lineage.liveAt("nope", Instant.now()), ErrorCode.UNKNOWN_MODEL);
        assertCode(() -> lineage.predictionProducers("predictions/churn/production", 7), ErrorCode.MISSING_TABLE);
        assertCode(() -> new AuditQuery(MODEL, null, 100_000), ErrorCode.INVALID_REQUEST).hasMessageContaining("between 1 and 10000");
        assertCode(() -> new AuditQuery(MODEL, null, 0), ErrorCode.INVALID_REQUEST);
        assertCode(() -> AuditQuery.forModel(MODEL).between(afterProduction, beforeProduction), ErrorCode.INVALID_REQUEST)
                .hasMessageContaining("reversed");

        String injection = "churn' OR '1'='1'; DROP TABLE audit_log; --";
        assertCode(() -> lineage.upstream(injection, 1), ErrorCode.UNKNOWN_MODEL);
        assertCode(() -> lineage.downstream("raw/churn' OR 1=1 --"), ErrorCode.MISSING_TABLE);
        assertCode(() -> lineage.liveAt(injection, Instant.now()), ErrorCode.UNKNOWN_MODEL);
        assertThat(store.registry().auditTrail(AuditQuery.forModel(injection))).isEmpty();
        assertThat(store.registry().auditTrail(AuditQuery.forModel(MODEL).between(beforeProduction, afterProduction)))
                .isNotEmpty().allSatisfy(e -> assertThat(e.occurredAt()).isBetween(beforeProduction, afterProduction));
        assertThat(store.auditChain().verify().intact()).isTrue();
    }

    @Test
    void exportCarriesTheTrailLineageAndChainVerificationAsJsonAndCsv() throws Exception {
        ComplianceExport export = ComplianceExport.of(store, MODEL);
        Path dir = Files.createTempDirectory("export");
        export.writeJson(dir.resolve("churn.json"));
        export.writeCsv(dir.resolve("csv"));

        JsonNode doc = new ObjectMapper().readTree(dir.resolve("churn.json").toFile());
        assertThat(doc.get("chainVerification").get("intact").asBoolean()).isTrue();
        assertThat(doc.get("exportedAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
        assertThat(doc.get("auditTrail")).isNotEmpty();
        assertThat(doc.get("auditTrail").get(0).get("rowHash").asText()).hasSize(64);
        assertThat(doc.get("versions")).hasSize(2);
        assertThat(doc.get("versions").get(0).get("promotions").get(0).get("decidedBy").asText()).isEqualTo("carol");
        assertThat(doc.get("versions").get(0).get("inputs").findValuesAsText("table")).contains("raw/churn", "features/churn");

        List<String> audit = Files.readAllLines(dir.resolve("csv/audit_trail.csv"), StandardCharsets.UTF_8);
        assertThat(audit.get(0)).startsWith("\"Audit ID\",\"Chain Seq\",\"Occurred At (UTC)\"");
        assertThat(audit).hasSize(doc.get("auditTrail").size() + 1);
        assertThat(Files.readString(dir.resolve("csv/chain_verification.csv"))).contains("\"Chain Intact\"", "\"true\"");
        assertThat(Files.readString(dir.resolve("csv/lineage.csv"))).contains("\"approval decision\"", "\"carol\"", "\"input (source)\"");

        assertCode(() -> ComplianceExport.of(store, "nope"), ErrorCode.UNKNOWN_MODEL);
    }

    private static org.assertj.core.api.AbstractThrowableAssert<?, ? extends Throwable> assertCode(
            org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code) {
        return assertThatThrownBy(call).isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(code));
    }
}
