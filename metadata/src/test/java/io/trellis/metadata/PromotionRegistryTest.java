package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingSupplier;

/** Principals, staged promotions, approvals, deployments and rollbacks against the real schema. Each test uses its own model. */
class PromotionRegistryTest {
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static DatabaseConfig config;
    private static MetadataStore store;
    private static Registry registry;

    @BeforeAll
    static void open() {
        config = TestingPostgreSqlServer.createDatabase(PromotionRegistryTest.class);
        store = MetadataStore.open(config);
        registry = store.registry();
        registry.grantRoles("carol", Set.of(PrincipalRole.APPROVER), "admin");
        registry.grantRoles("dana", Set.of(PrincipalRole.APPROVER, PrincipalRole.ML_ENGINEER), "admin");
        registry.grantRoles("victor", Set.of(PrincipalRole.VIEWER), "admin");
    }

    @AfterAll
    static void close() {
        store.close();
    }

    // ------------------------------------------------------------ principals

    @Test
    void grantAndRevokeRolesAreIdempotentAndAudited() {
        PrincipalRecord granted = registry.grantRoles("erin", Set.of(PrincipalRole.VIEWER, PrincipalRole.AUDITOR), "admin");
        PrincipalRecord again = registry.grantRoles("erin", Set.of(PrincipalRole.AUDITOR), "admin");
        assertThat(granted.roles()).containsExactly(PrincipalRole.VIEWER, PrincipalRole.AUDITOR);
        assertThat(again).isEqualTo(granted);
        assertThat(registry.principal("erin")).contains(granted);

        PrincipalRecord more = registry.grantRoles("erin", Set.of(PrincipalRole.ML_ENGINEER), "admin");
        assertThat(more.roles()).containsExactly(PrincipalRole.VIEWER, PrincipalRole.ML_ENGINEER, PrincipalRole.AUDITOR);
        PrincipalRecord revoked = registry.revokeRole("erin", PrincipalRole.VIEWER, "admin");
        assertThat(registry.revokeRole("erin", PrincipalRole.VIEWER, "admin")).isEqualTo(revoked);
        assertThat(revoked.roles()).containsExactly(PrincipalRole.ML_ENGINEER, PrincipalRole.AUDITOR);

        assertThat(principalAudit("erin")).extracting(AuditEntry::action, AuditEntry::message).containsExactly(
                tuple("principal.roles_granted", "Granted viewer, auditor to new principal erin; roles now viewer, auditor"),
                tuple("principal.roles_granted", "Granted ml-engineer to erin; roles now viewer, ml-engineer, auditor"),
                tuple("principal.role_revoked", "Revoked viewer from erin; roles now ml-engineer, auditor"));

        assertRefused(() -> registry.revokeRole("nobody", PrincipalRole.ADMIN, "admin"), ErrorCode.INVALID_REQUEST)
                .hasMessage("No principal named 'nobody' is known, so there is no role to revoke; check the name.");
        assertThat(registry.principal("nobody")).isEmpty();
        assertThat(registry.auditTrail(AuditQuery.all())).filteredOn(e -> e.action().equals("principal.role_revoked"))
                .extracting(AuditEntry::outcome).containsExactly(AuditOutcome.SUCCESS, AuditOutcome.REJECTED);
    }

    @Test
    void databaseRejectsUnknownRoleNames() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("insert into principals (name, roles) values ('mallory', '{root}')"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("principals_roles_check");
        }
    }

    // ------------------------------------------------------------ opening promotions

    @Test
    void openPromotionIsIdempotentOnItsKey() {
        model("open-model");
        version("open-model", "bob", ModelVersionStatus.REGISTERED);

        PromotionRecord first = registry.openPromotion("promote/open-model/v1/production", "open-model", 1, "production", "alice", "better auc");
        PromotionRecord again = registry.openPromotion("promote/open-model/v1/production", "open-model", 1, "production", "alice", "better auc");

        assertThat(again).isEqualTo(first);
        assertThat(first.status()).isEqualTo(PromotionStatus.RUNNING);
        assertThat(first.targetEnvironment()).isEqualTo("production");
        assertThat(first.stages()).isEmpty();
        assertThat(first.finishedAt()).isNull();
        assertThat(registry.promotion(first.promotionKey())).contains(first);
        assertThat(registry.promotions("open-model")).containsExactly(first);
        assertThat(keyAudit(first.promotionKey())).extracting(AuditEntry::action, AuditEntry::outcome, AuditEntry::message)
                .containsExactly(tuple("promotion.requested", AuditOutcome.SUCCESS,
                        "alice requested the promotion of open-model v1 to production: better auc"));

        assertRefused(() -> registry.openPromotion("promote/open-model/v1/production", "open-model", 1, "staging", "alice", null),
                ErrorCode.INVALID_REQUEST).hasMessageContaining("already names the promotion of open-model v1 to production, not open-model v1 to staging");
    }

    @Test
    void openPromotionRefusalsAreAuditedAndChangeNothing() {
        model("refuse-model");
        version("refuse-model", "bob", ModelVersionStatus.REGISTERED);
        version("refuse-model", "bob", ModelVersionStatus.REJECTED);
        version("refuse-model", "bob", ModelVersionStatus.REGISTERED);

        assertRefused(() -> registry.openPromotion("p/ghost", "ghost-model", 1, "production", "alice", null), ErrorCode.UNKNOWN_MODEL)
                .hasMessageContaining("No model named 'ghost-model' is registered");
        assertRefused(() -> registry.openPromotion("p/v9", "refuse-model", 9, "production", "alice", null), ErrorCode.UNKNOWN_MODEL_VERSION)
                .hasMessage("Model refuse-model has no version 9; its versions are 1 to 3.");
        assertRefused(() -> registry.openPromotion("p/qa", "refuse-model", 1, "qa", "alice", null), ErrorCode.INVALID_REQUEST)
                .hasMessageContaining("Model refuse-model has no environment 'qa'; its environments are dev, staging, production.");
        assertRefused(() -> registry.openPromotion("p/rejected", "refuse-model", 2, "production", "alice", null), ErrorCode.INVALID_STATE)
                .hasMessage("refuse-model v2 is REJECTED: it did not pass its promotion gates when it was trained, so it cannot be promoted."
                        + " Promote a REGISTERED version, or retrain the model.");
        assertRefused(() -> registry.openPromotion("p/dev", "refuse-model", 1, "dev", "alice", null), ErrorCode.INVALID_REQUEST)
                .hasMessage("Versions are not promoted to dev, the first environment of model refuse-model: each retraining puts its new"
                        + " version there as the candidate. Promote to staging or production instead.");

        PromotionRecord active = registry.openPromotion("p/active", "refuse-model", 1, "staging", "alice", null);
        assertRefused(() -> registry.openPromotion("p/other", "refuse-model", 3, "staging", "bob", null), ErrorCode.PROMOTION_CONFLICT)
                .hasMessageStartingWith("Promotion p/active of refuse-model v1 to staging is still RUNNING (requested by alice at ")
                .hasMessageEndingWith("Wait for it to finish, or cancel it, then promote again.");
        // Another environment is another lane.
        registry.openPromotion("p/prod", "refuse-model", 3, "production", "bob", null);

        registry.deploy("p/active", "staging", "worker");
        registry.finishPromotion("p/active", PromotionStatus.DEPLOYED, null, "worker");
        assertRefused(() -> registry.openPromotion("p/again", "refuse-model", 1, "staging", "alice", null), ErrorCode.INVALID_STATE)
                .hasMessageStartingWith("refuse-model v1 is already live in staging (since ");

        assertThat(registry.promotions("refuse-model")).extracting(PromotionRecord::promotionKey).containsExactly("p/active", "p/prod");
        assertThat(registry.auditTrail(AuditQuery.all()))
                .filteredOn(e -> e.action().equals("promotion.requested") && e.outcome() == AuditOutcome.REJECTED)
                .extracting(AuditEntry::runKey)
                .contains("p/ghost", "p/v9", "p/qa", "p/rejected", "p/dev", "p/other", "p/again");
        assertThat(keyAudit("p/other")).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo("bob");
            assertThat(e.modelVersion()).isEqualTo(3);
            assertThat(e.details()).containsEntry("errorCode", "PROMOTION_CONFLICT");
        });
    }

    @Test
    void racingPromotionsOfOneModelAndEnvironment_exactlyOneWins() throws Exception {
        model("race-model");
        version("race-model", "bob", ModelVersionStatus.REGISTERED);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Object> outcomes = new ArrayList<>();
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Object>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String key = "promote/race-model/v1/production#" + i;
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        return registry.openPromotion(key, "race-model", 1, "production", "alice", null);
                    } catch (TrellisException e) {
                        return e;
                    }
                }));
            }
            start.countDown();
            for (Future<Object> result : results) {
                outcomes.add(result.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        List<PromotionRecord> winners = outcomes.stream().filter(PromotionRecord.class::isInstance).map(PromotionRecord.class::cast).toList();
        assertThat(winners).hasSize(1);
        assertThat(outcomes).filteredOn(TrellisException.class::isInstance).hasSize(threads - 1)
                .allSatisfy(o -> {
                    TrellisException e = (TrellisException) o;
                    assertThat(e.code()).isEqualTo(ErrorCode.PROMOTION_CONFLICT);
                    assertThat(e.getMessage()).startsWith("Promotion " + winners.get(0).promotionKey() + " of race-model v1 to production is still RUNNING");
                });
        assertThat(registry.promotions("race-model")).containsExactly(winners.get(0));
        assertThat(registry.auditTrail(AuditQuery.forModel("race-model")))
                .filteredOn(e -> e.action().equals("promotion.requested"))
                .extracting(AuditEntry::outcome)
                .containsOnly(AuditOutcome.SUCCESS, AuditOutcome.REJECTED)
                .filteredOn(o -> o == AuditOutcome.SUCCESS).hasSize(1);
    }

    // ------------------------------------------------------------ stages and approvals

    @Test
    void recordStageAppendsReplacesPerEnvironmentAndIgnoresRepeats() {
        model("stage-model");
        version("stage-model", "bob", ModelVersionStatus.REGISTERED);
        String key = "promote/stage-model/v1/production";
        registry.openPromotion(key, "stage-model", 1, "production", "alice", null);
        Map<String, Object> failed = Map.of("environment", "staging", "summary", "auc 0.70 < 0.75",
                "gates", List.of(Map.of("gate", "auc", "observed", 0.70, "threshold", 0.75, "passed", false)));
        Map<String, Object> passed = Map.of("environment", "staging",
                "gates", List.of(Map.of("gate", "auc", "observed", 0.81, "threshold", 0.75, "passed", true)),
                "shadow", Map.of("rows", 1000, "agreement", 0.97));

        registry.recordStage(key, failed, AuditOutcome.REJECTED);
        registry.recordStage(key, passed, AuditOutcome.SUCCESS);
        PromotionRecord repeated = registry.recordStage(key, passed, AuditOutcome.SUCCESS);

        assertThat(repeated.stages()).hasSize(1);
        assertThat(repeated.stage("staging")).get().satisfies(s -> {
            assertThat(s).containsEntry("shadow", Map.of("rows", 1000, "agreement", 0.97));
            assertThat(s.get("gates")).isEqualTo(List.of(Map.of("gate", "auc", "observed", 0.81, "threshold", 0.75, "passed", true)));
        });
        assertThat(keyAudit(key)).extracting(AuditEntry::action, AuditEntry::outcome, AuditEntry::message).containsExactly(
                tuple("promotion.requested", AuditOutcome.SUCCESS, "alice requested the promotion of stage-model v1 to production"),
                tuple("promotion.gate_failed", AuditOutcome.REJECTED, "stage-model v1 failed its gates in staging: auc 0.70 < 0.75"),
                tuple("promotion.stage_passed", AuditOutcome.SUCCESS, "stage-model v1 passed its gates in staging"));

        assertRefused(() -> registry.recordStage(key, Map.of("environment", "dev"), AuditOutcome.SUCCESS), ErrorCode.INVALID_REQUEST)
                .hasMessage("Promotion " + key + " does not pass through 'dev'; its stages are staging, production.");
        assertThatThrownBy(() -> registry.recordStage(key, Map.of("gates", List.of()), AuditOutcome.SUCCESS))
                .isInstanceOf(TrellisException.class).hasMessageContaining("does not name its environment");
        registry.finishPromotion(key, PromotionStatus.FAILED, "shadow job lost", "worker");
        assertRefused(() -> registry.recordStage(key, Map.of("environment", "production"), AuditOutcome.SUCCESS), ErrorCode.INVALID_STATE)
                .hasMessageContaining("finished as FAILED");
    }

    @Test
    void decideEnforcesStateRolesFourEyesAndReasons() {
        model("decide-model");
        version("decide-model", "bob", ModelVersionStatus.REGISTERED);
        String key = "promote/decide-model/v1/production";
        registry.openPromotion(key, "decide-model", 1, "production", "dana", "quarterly refresh");

        assertRefused(() -> registry.decide(key, "carol", Decision.APPROVED, null), ErrorCode.INVALID_STATE)
                .hasMessage("Promotion " + key + " is not awaiting approval: its stages are still running; decide once it asks for an approval.");
        PromotionRecord waiting = registry.awaitApproval(key);
        assertThat(registry.awaitApproval(key)).isEqualTo(waiting);
        assertThat(waiting.status()).isEqualTo(PromotionStatus.AWAITING_APPROVAL);

        assertRefused(() -> registry.decide(key, "victor", Decision.APPROVED, null), ErrorCode.FORBIDDEN)
                .hasMessage("victor may not decide on promotion " + key + ": victor holds only viewer, and deciding needs the approver"
                        + " role. Ask an admin to grant it, or ask an approver to decide.");
        assertRefused(() -> registry.decide(key, "zed", Decision.APPROVED, null), ErrorCode.FORBIDDEN)
                .hasMessageContaining("zed is not a known principal");
        registry.grantRoles("bob", Set.of(PrincipalRole.APPROVER), "admin");
        assertRefused(() -> registry.decide(key, "bob", Decision.APPROVED, null), ErrorCode.FORBIDDEN)
                .hasMessage("bob may not decide on promotion " + key + " (four-eyes rule): bob triggered the retraining ("
                        + runOf("decide-model", 1) + ") that produced decide-model v1. Another approver must decide.");
        assertRefused(() -> registry.decide(key, "dana", Decision.APPROVED, null), ErrorCode.FORBIDDEN)
                .hasMessageContaining("(four-eyes rule): dana requested this promotion");
        assertRefused(() -> registry.decide(key, "carol", Decision.REJECTED, " "), ErrorCode.INVALID_REQUEST)
                .hasMessage("Rejecting promotion " + key + " needs a reason, so that the requester knows what to fix; pass one.");
        assertThat(registry.promotion(key)).contains(waiting);

        PromotionRecord approved = registry.decide(key, "carol", Decision.APPROVED, "shadow looks fine");
        assertThat(approved.decision()).isEqualTo(Decision.APPROVED);
        assertThat(approved.decidedBy()).isEqualTo("carol");
        assertThat(approved.decisionReason()).isEqualTo("shadow looks fine");
        assertThat(approved.decidedAt()).isNotNull();
        assertThat(approved.status()).isEqualTo(PromotionStatus.AWAITING_APPROVAL);
        // The same approval again (a retried activity) changes nothing; anything else is refused.
        assertThat(registry.decide(key, "carol", Decision.APPROVED, "shadow looks fine")).isEqualTo(approved);
        assertRefused(() -> registry.decide(key, "carol", Decision.REJECTED, "changed my mind"), ErrorCode.INVALID_STATE)
                .hasMessageStartingWith("Promotion " + key + " is not awaiting approval: carol already approved it at ");
        registry.grantRoles("frank", Set.of(PrincipalRole.APPROVER), "admin");
        assertRefused(() -> registry.decide(key, "frank", Decision.APPROVED, null), ErrorCode.INVALID_STATE)
                .hasMessageContaining("carol already approved it");

        assertThat(keyAudit(key)).filteredOn(e -> e.action().startsWith("promotion.approved") || e.action().startsWith("promotion.rejected"))
                .extracting(AuditEntry::actor, AuditEntry::action, AuditEntry::outcome).containsExactly(
                        tuple("carol", "promotion.approved", AuditOutcome.REJECTED),
                        tuple("victor", "promotion.approved", AuditOutcome.REJECTED),
                        tuple("zed", "promotion.approved", AuditOutcome.REJECTED),
                        tuple("bob", "promotion.approved", AuditOutcome.REJECTED),
                        tuple("dana", "promotion.approved", AuditOutcome.REJECTED),
                        tuple("carol", "promotion.rejected", AuditOutcome.REJECTED),
                        tuple("carol", "promotion.approved", AuditOutcome.SUCCESS),
                        tuple("carol", "promotion.rejected", AuditOutcome.REJECTED),
                        tuple("frank", "promotion.approved", AuditOutcome.REJECTED));
        assertThat(registry.promotion(key)).contains(approved);
    }

    @Test
    void rejectionIsRecordedAndStopsDeployment() {
        model("reject-model");
        version("reject-model", "bob", ModelVersionStatus.REGISTERED);
        String key = "promote/reject-model/v1/production";
        registry.openPromotion(key, "reject-model", 1, "production", "alice", null);
        registry.deploy(key, "staging", "worker");
        registry.awaitApproval(key);
        PromotionRecord rejected = registry.decide(key, "carol", Decision.REJECTED, "latency regression in shadow");
        assertThat(registry.decide(key, "carol", Decision.REJECTED, "latency regression in shadow")).isEqualTo(rejected);

        assertRefused(() -> registry.deploy(key, "production", "worker"), ErrorCode.INVALID_STATE)
                .hasMessage("Promotion " + key + " was rejected by carol (latency regression in shadow), so it deploys nothing; finish it as REJECTED.");
        PromotionRecord finished = registry.finishPromotion(key, PromotionStatus.REJECTED, "rejected by carol", "worker");
        assertThat(finished.status()).isEqualTo(PromotionStatus.REJECTED);
        assertThat(registry.live("reject-model", "production")).isEmpty();
        assertThat(registry.live("reject-model", "staging")).get().extracting(DeploymentRecord::version).isEqualTo(1);
    }

    // ------------------------------------------------------------ deployments

    @Test
    void deployThroughStagingThenProductionWithApproval() {
        model("flow-model");
        version("flow-model", "bob", ModelVersionStatus.REGISTERED);
        version("flow-model", "bob", ModelVersionStatus.REGISTERED);
        promoteToProduction("flow-model", 1);
        String key = "promote/flow-model/v2/production";
        registry.markCandidate(runOf("flow-model", 2), "flow-model", 2, "staging", "worker");
        registry.openPromotion(key, "flow-model", 2, "production", "alice", null);

        assertRefused(() -> registry.deploy(key, "production", "worker"), ErrorCode.INVALID_STATE)
                .hasMessage("flow-model v2 cannot be deployed to production before an approver approves promotion " + key
                        + " (it is RUNNING). Ask an approver other than the requester and the person who triggered the retraining to approve it.");
        assertRefused(() -> registry.deploy(key, "dev", "worker"), ErrorCode.INVALID_REQUEST)
                .hasMessage("Promotion " + key + " does not deploy to dev; it deploys flow-model v2 to staging, production, in that order.");

        DeploymentRecord staging = registry.deploy(key, "staging", "worker");
        assertThat(registry.deploy(key, "staging", "worker")).isEqualTo(staging);
        assertThat(staging.runKey()).isEqualTo(key);
        assertThat(staging.role()).isEqualTo(DeploymentRole.LIVE);
        // The version's candidate pointer in staging closed as it went live.
        assertThat(registry.deployments("flow-model")).filteredOn(d -> d.environment().equals("staging") && d.role() == DeploymentRole.CANDIDATE)
                .singleElement().satisfies(d -> assertThat(d.isOpen()).isFalse());
        registry.recordStage(key, Map.of("environment", "staging", "gates", List.of()), AuditOutcome.SUCCESS);
        registry.awaitApproval(key);
        registry.decide(key, "carol", Decision.APPROVED, null);
        DeploymentRecord production = registry.deploy(key, "production", "worker");
        assertThat(registry.deploy(key, "production", "worker")).isEqualTo(production);
        PromotionRecord done = registry.finishPromotion(key, PromotionStatus.DEPLOYED, null, "worker");
        assertThat(registry.finishPromotion(key, PromotionStatus.FAILED, "late", "worker")).isEqualTo(done);
        assertThat(done.status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThat(done.finishedAt()).isNotNull();

        assertThat(registry.live("flow-model", "production")).contains(production);
        assertThat(registry.liveHistory("flow-model", "production"))
                .extracting(DeploymentRecord::version, DeploymentRecord::isOpen).containsExactly(tuple(1, false), tuple(2, true));
        assertThat(registry.liveChampion("flow-model", "production")).get()
                .extracting(ChampionRecord::version, ChampionRecord::environment, ChampionRecord::role)
                .containsExactly(2, "production", DeploymentRole.LIVE);
        assertThat(registry.liveChampion("flow-model", "dev")).isEmpty();
        assertThat(registry.findChampion("flow-model")).get().extracting(ChampionRecord::version).isEqualTo(2);
        assertThat(keyAudit(key)).extracting(AuditEntry::action).containsExactly(
                "promotion.requested", "environment.deployed", "environment.deployed", "environment.deployed",
                "promotion.stage_passed", "promotion.awaiting_approval", "promotion.approved", "environment.deployed",
                "promotion.deployed");
        assertThat(keyAudit(key)).filteredOn(e -> e.action().equals("environment.deployed") && e.outcome() == AuditOutcome.SUCCESS)
                .extracting(AuditEntry::message)
                .containsExactly("flow-model v2 is now live in staging (was v1)", "flow-model v2 is now live in production (was v1)");
        assertThat(keyAudit(key)).last().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo(AuditOutcome.SUCCESS);
            assertThat(e.message()).isEqualTo("Promotion of flow-model v2 to production completed");
        });
    }

    @Test
    void finishPromotionAsDeployedNeedsTheVersionLive() {
        model("finish-model");
        version("finish-model", "bob", ModelVersionStatus.REGISTERED);
        String key = "promote/finish-model/v1/staging";
        registry.openPromotion(key, "finish-model", 1, "staging", "alice", null);
        assertRefused(() -> registry.finishPromotion(key, PromotionStatus.DEPLOYED, null, "worker"), ErrorCode.INVALID_STATE)
                .hasMessage("Promotion " + key + " cannot finish as DEPLOYED: finish-model v1 is not live in staging. Deploy it there first.");
        assertThatThrownBy(() -> registry.finishPromotion(key, PromotionStatus.RUNNING, null, "worker"))
                .isInstanceOf(TrellisException.class).hasMessageContaining("pass DEPLOYED, GATE_FAILED, REJECTED, EXPIRED or FAILED");
        PromotionRecord expired = registry.finishPromotion(key, PromotionStatus.EXPIRED, "no decision in 7 days", "worker");
        assertThat(expired.message()).isEqualTo("no decision in 7 days");
        assertThat(keyAudit(key)).last().extracting(AuditEntry::action, AuditEntry::outcome)
                .containsExactly("promotion.expired", AuditOutcome.REJECTED);
        assertRefused(() -> registry.deploy(key, "staging", "worker"), ErrorCode.INVALID_STATE).hasMessageContaining("finished as EXPIRED");
        // A finished promotion frees its lane.
        assertThat(registry.openPromotion(key + "#2", "finish-model", 1, "staging", "alice", null).status()).isEqualTo(PromotionStatus.RUNNING);
    }

    @Test
    void productionRequiresStagingInTheDatabaseAndInMarkLive() throws SQLException {
        model("trigger-model");
        version("trigger-model", "bob", ModelVersionStatus.REGISTERED);
        String openLive = """
                insert into deployments (environment_id, model_version_id, role, valid_from, deployed_by)
                select e.id, v.id, 'live', now(), 'mallory'
                from environments e join models m on m.id = e.model_id join model_versions v on v.model_id = m.id
                where m.name = 'trigger-model' and e.name = '%s' and v.version = 1""";
        try (Connection c = connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate(openLive.formatted("production")))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("trigger-model v1 cannot go live in production before it has been live in staging")
                    .hasMessageContaining("Promote the version through staging first");
        }
        assertRefusedAs(() -> registry.markLive("trigger-model", 1, "production", "alice", "hotfix"), ErrorCode.INVALID_STATE)
                .hasMessage("trigger-model v1 cannot go live in production before it has been live in staging; promote it through staging first.");
        assertThat(registry.deployments("trigger-model")).isEmpty();

        registry.markLive("trigger-model", 1, "staging", "alice", "manual");
        try (Connection c = connect(); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate(openLive.formatted("production"))).isEqualTo(1);
        }
        assertThat(registry.live("trigger-model", "production")).get().extracting(DeploymentRecord::deployedBy).isEqualTo("mallory");
    }

    // ------------------------------------------------------------ rollback

    @Test
    void rollbackRestoresThePreviousOrANamedVersionKeepingHistory() {
        model("roll-model");
        for (int i = 0; i < 3; i++) {
            version("roll-model", "bob", ModelVersionStatus.REGISTERED);
        }
        promoteToProduction("roll-model", 1);
        promoteToProduction("roll-model", 2);
        promoteToProduction("roll-model", 3);

        DeploymentRecord back = registry.rollback("roll-model", "production", null, "oncall", "v3 drops 5% of requests");
        assertThat(back.version()).isEqualTo(2);
        assertThat(back.reason()).isEqualTo("v3 drops 5% of requests");
        // A retried rollback does not roll back a second time.
        assertThat(registry.rollback("roll-model", "production", null, "oncall", "v3 drops 5% of requests")).isEqualTo(back);

        DeploymentRecord named = registry.rollback("roll-model", "production", 1, "oncall", "v2 too, go to v1");
        assertThat(registry.rollback("roll-model", "production", 1, "oncall", "v2 too, go to v1")).isEqualTo(named);
        assertThat(registry.live("roll-model", "production")).contains(named);
        assertThat(registry.liveHistory("roll-model", "production"))
                .extracting(DeploymentRecord::version, DeploymentRecord::isOpen, DeploymentRecord::deployedBy)
                .containsExactly(tuple(1, false, "worker"), tuple(2, false, "worker"), tuple(3, false, "worker"),
                        tuple(2, false, "oncall"), tuple(1, true, "oncall"));
        // From v1, the version live right before it is v2.
        assertThat(registry.rollback("roll-model", "production", null, "oncall", "v1 lacks the fix").version()).isEqualTo(2);

        assertThat(registry.auditTrail(AuditQuery.forModel("roll-model")))
                .filteredOn(e -> e.action().equals("environment.rolled_back"))
                .extracting(AuditEntry::message)
                .containsExactly("oncall rolled roll-model in production back from v3 to v2: v3 drops 5% of requests",
                        "oncall rolled roll-model in production back from v2 to v1: v2 too, go to v1",
                        "oncall rolled roll-model in production back from v1 to v2: v1 lacks the fix");
    }

    @Test
    void rollbackRefusals() throws SQLException {
        model("noroll-model");
        for (int i = 0; i < 3; i++) {
            version("noroll-model", "bob", ModelVersionStatus.REGISTERED);
        }
        assertRefused(() -> registry.rollback("noroll-model", "production", null, "oncall", "broken"), ErrorCode.INVALID_STATE)
                .hasMessage("Nothing is live in production for model noroll-model, so there is nothing to roll back. Promote a version there instead.");
        promoteToProduction("noroll-model", 1);
        assertRefused(() -> registry.rollback("noroll-model", "production", null, "oncall", "broken"), ErrorCode.INVALID_STATE)
                .hasMessage("noroll-model v1 is the only version that has been live in production, so there is no previous version to roll back to."
                        + " Promote another version instead.");
        assertRefused(() -> registry.rollback("noroll-model", "production", null, "oncall", ""), ErrorCode.INVALID_REQUEST)
                .hasMessageContaining("needs a reason");
        assertRefused(() -> registry.rollback("noroll-model", "production", 2, "oncall", "broken"), ErrorCode.INVALID_STATE)
                .hasMessage("noroll-model v2 has never been live in production, so a rollback cannot restore it (versions live there so far: v1)."
                        + " Promote it instead.");
        assertThat(registry.liveHistory("noroll-model", "production")).hasSize(1);
        assertThat(registry.auditTrail(AuditQuery.forModel("noroll-model")))
                .filteredOn(e -> e.action().equals("environment.rolled_back"))
                .extracting(AuditEntry::outcome).containsOnly(AuditOutcome.REJECTED).hasSize(4);

        // The staging rule does not block restoring a version that was live in production before (here: never in staging).
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.executeUpdate("""
                    insert into deployments (environment_id, model_version_id, role, valid_from, valid_to, deployed_by)
                    select e.id, v.id, 'live', now() - interval '2 days', now() - interval '1 day', 'legacy'
                    from environments e join models m on m.id = e.model_id join model_versions v on v.model_id = m.id
                    where m.name = 'noroll-model' and e.name = 'production' and v.version = 3""");
        }
        assertThat(registry.rollback("noroll-model", "production", 3, "oncall", "back to the legacy version").version()).isEqualTo(3);
    }

    // ------------------------------------------------------------ version context

    @Test
    void versionContextGathersWhatAPromotionNeeds() {
        model("ctx-model");
        String runKey = version("ctx-model", "bob", ModelVersionStatus.REGISTERED);
        DatasetVersionRecord raw = registry.recordDatasetVersion("s3://lake/raw/ctx", 4, 1000, DatasetKind.RAW, null);
        DatasetVersionRecord features = registry.recordDatasetVersion("s3://lake/features/ctx", 7, 990, DatasetKind.FEATURES, null);
        registry.recordRunInput(runKey, raw.id(), "source");
        registry.recordRunInput(runKey, features.id(), Registry.FEATURES_RELATION);
        registry.recordValidation(runKey, raw.id(), true, Map.of());

        ModelVersionContext context = registry.versionContext("ctx-model", 1);

        assertThat(context.status()).isEqualTo(ModelVersionStatus.REGISTERED);
        assertThat(context.metrics()).containsEntry("auc", 0.81);
        assertThat(context.artifactUri()).isEqualTo("s3://artifacts/ctx-model/" + runKey);
        assertThat(context.artifactSha256()).isEqualTo("artifact-sha");
        assertThat(context.artifactBytes()).isEqualTo(1234L);
        assertThat(context.runKey()).isEqualTo(runKey);
        assertThat(context.triggeredBy()).isEqualTo("bob");
        assertThat(context.dataValidationPassed()).isTrue();
        assertThat(context.features()).isEqualTo(features);
        assertThat(context.environments()).containsExactly("dev", "staging", "production");

        version("ctx-model", "bob", ModelVersionStatus.REGISTERED);
        assertThat(registry.versionContext("ctx-model", 2)).satisfies(c -> {
            assertThat(c.dataValidationPassed()).isNull();
            assertThat(c.features()).isNull();
        });
        assertThatThrownBy(() -> registry.versionContext("ctx-model", 5))
                .isInstanceOf(TrellisException.class)
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.UNKNOWN_MODEL_VERSION);
    }

    // ------------------------------------------------------------ helpers

    @Test
    void aVersionWhoseArtifactRetentionPurgedIsRefusedUpFrontByRollbackPromotionAndPointerMoves() {
        model("purged-model");
        for (int i = 0; i < 3; i++) {
            version("purged-model", "bob", ModelVersionStatus.REGISTERED);
        }
        promoteToProduction("purged-model", 1);
        promoteToProduction("purged-model", 2);
        long v1 = registry.version("purged-model", 1).orElseThrow().id();
        assertThat(store.retention().markPurged(RetentionStore.PurgedSubject.MODEL_VERSION, v1, "retention: unpinned", "retention/run-7@r1", 1234))
                .isTrue();
        String purged = "model purged-model v1 was purged by retention run retention/run-7@r1 at ";

        assertRefused(() -> registry.rollback("purged-model", "production", null, "oncall", "v2 is slow"), ErrorCode.INVALID_STATE)
                .hasMessageStartingWith(purged).hasMessageContaining("(reason: retention: unpinned); its artifact is deleted, so it cannot be"
                        + " restored in production by a rollback. Its record and lineage stay; deploy another version, or retrain the model");
        assertRefused(() -> registry.rollback("purged-model", "staging", 1, "oncall", "v2 is slow"), ErrorCode.INVALID_STATE)
                .hasMessageStartingWith(purged).hasMessageContaining("cannot be restored in staging by a rollback");
        assertRefused(() -> registry.openPromotion("promote/purged-model/v1/production/after-purge", "purged-model", 1, "production", "alice", null),
                ErrorCode.INVALID_STATE).hasMessageStartingWith(purged).hasMessageContaining("cannot be promoted to production");
        assertRefusedAs(() -> registry.markLive("purged-model", 1, "staging", "alice", "override"), ErrorCode.INVALID_STATE)
                .hasMessageStartingWith(purged).hasMessageContaining("cannot be made the live version in staging");
        assertRefusedAs(() -> registry.markCandidate(null, "purged-model", 1, "dev", "alice"), ErrorCode.INVALID_STATE)
                .hasMessageStartingWith(purged);

        // nothing moved, nothing opened; each refusal audited REJECTED; unpurged versions are unaffected
        assertThat(registry.live("purged-model", "production")).get().extracting(DeploymentRecord::version).isEqualTo(2);
        assertThat(registry.promotion("promote/purged-model/v1/production/after-purge")).isEmpty();
        assertThat(registry.auditTrail(AuditQuery.forModel("purged-model"))).filteredOn(e -> e.outcome() != AuditOutcome.SUCCESS)
                .extracting(AuditEntry::action).containsExactly("environment.rolled_back", "environment.rolled_back", "promotion.requested",
                        "environment.live_set", "environment.candidate_set");
        promoteToProduction("purged-model", 3);
        assertThat(registry.rollback("purged-model", "production", 2, "oncall", "v3 is slow").version()).isEqualTo(2);
    }

    @Test
    void retentionAuditRowsAreWrittenOncePerRunAndSubject() {
        RetentionStore retention = store.retention();
        Map<String, Object> details = Map.of("retentionRun", "retention/once@r1");

        assertThat(retention.auditOnce("retention/once@r1", "run", "anna", "retention.completed", AuditOutcome.SUCCESS, null, null,
                "Retention deleted 1 item(s)", details)).isTrue();
        assertThat(retention.auditOnce("retention/once@r1", "run", "anna", "retention.completed", AuditOutcome.SUCCESS, null, null,
                "Retention deleted 1 item(s)", details)).isFalse();
        assertThat(retention.auditOnce("retention/once@r1", "model_version:1", "anna", "model.artifact_purged", AuditOutcome.SUCCESS, null,
                null, "Artifact deleted", details)).isTrue();
        assertThat(retention.auditOnce("retention/once@r2", "run", "anna", "retention.completed", AuditOutcome.SUCCESS, null, null,
                "Retention deleted 0 item(s)", Map.of("retentionRun", "retention/once@r2"))).isTrue();

        assertThat(registry.auditTrail(AuditQuery.all().withLimit(10))).filteredOn(e -> e.details() != null
                        && String.valueOf(e.details().get("retentionRun")).startsWith("retention/once@"))
                .extracting(AuditEntry::action, e -> e.details().get("retentionRun"))
                .containsExactly(tuple("retention.completed", "retention/once@r1"), tuple("model.artifact_purged", "retention/once@r1"),
                        tuple("retention.completed", "retention/once@r2"));
        assertThatThrownBy(() -> retention.auditOnce(" ", "run", "anna", "retention.completed", AuditOutcome.SUCCESS, null, null, "x", details))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("retentionRun");
    }

    private static void model(String name) {
        registry.applyModelSpec(name, "name: " + name, "sha-" + name, null, "alice");
    }

    /** Trains and registers the model's next version from a run triggered by {@code triggeredBy}; returns the run key. */
    private static String version(String modelName, String triggeredBy, ModelVersionStatus status) {
        String runKey = "retrain/" + modelName + "/" + RUNS.incrementAndGet();
        registry.startRun(runKey, "wf-" + runKey, modelName, triggeredBy, null, "sha-" + modelName, "c1");
        registry.registerModelVersion(new ModelVersionRegistration(runKey, "gbt", "s3://artifacts/" + modelName + "/" + runKey,
                "artifact-sha", 1234L, Map.of("maxIter", 20), Map.of("auc", 0.81), null, null,
                List.of(Map.of("gate", "auc >= 0.75", "passed", status == ModelVersionStatus.REGISTERED)), status, "c1", "worker"));
        registry.finishRun(runKey, status == ModelVersionStatus.REGISTERED ? RunStatus.SUCCEEDED : RunStatus.GATE_FAILED, null, null, "worker");
        return runKey;
    }

    /** The whole happy path: staging, approval by carol, production, DEPLOYED. */
    private static void promoteToProduction(String modelName, int version) {
        String key = "promote/" + modelName + "/v" + version + "/production";
        registry.openPromotion(key, modelName, version, "production", "alice", null);
        registry.deploy(key, "staging", "worker");
        registry.awaitApproval(key);
        registry.decide(key, "carol", Decision.APPROVED, null);
        registry.deploy(key, "production", "worker");
        registry.finishPromotion(key, PromotionStatus.DEPLOYED, null, "worker");
    }

    private static String runOf(String modelName, int version) {
        return registry.version(modelName, version).orElseThrow().runKey();
    }

    private static List<AuditEntry> keyAudit(String promotionKey) {
        return registry.auditTrail(AuditQuery.forRun(promotionKey));
    }

    private static List<AuditEntry> principalAudit(String name) {
        return registry.auditTrail(AuditQuery.all()).stream()
                .filter(e -> e.action().startsWith("principal.") && name.equals(e.details().get("principal")))
                .toList();
    }

    /** The call fails with {@code code}, and its REJECTED audit row carries the same message. */
    private static AbstractThrowableAssert<?, ? extends Throwable> assertRefused(ThrowingSupplier<?> call, ErrorCode code) {
        return assertRefused(call, code, AuditOutcome.REJECTED);
    }

    /** As {@link #assertRefused} for the older pointer operations, which audit refusals as FAILURE. */
    private static AbstractThrowableAssert<?, ? extends Throwable> assertRefusedAs(ThrowingSupplier<?> call, ErrorCode code) {
        return assertRefused(call, code, AuditOutcome.FAILURE);
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertRefused(ThrowingSupplier<?> call, ErrorCode code, AuditOutcome outcome) {
        TrellisException thrown = null;
        try {
            call.get();
        } catch (TrellisException e) {
            thrown = e;
        } catch (Throwable t) {
            throw new AssertionError("expected a TrellisException " + code + ", got " + t, t);
        }
        assertThat(thrown).as("expected a TrellisException " + code).isNotNull();
        assertThat(thrown.code()).isEqualTo(code);
        String message = thrown.getMessage();
        List<AuditEntry> trail = registry.auditTrail(AuditQuery.all().withLimit(1));
        assertThat(trail).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo(outcome);
            assertThat(e.message()).isEqualTo(message);
            assertThat(e.details()).containsEntry("errorCode", code.name());
        });
        return assertThat((Throwable) thrown);
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
    }
}
