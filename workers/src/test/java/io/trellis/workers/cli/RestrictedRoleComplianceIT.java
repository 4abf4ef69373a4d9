package io.trellis.workers.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.sun.net.httpserver.HttpServer;
import io.openlineage.client.OpenLineageClientUtils;
import io.temporal.client.WorkflowOptions;
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.DownstreamLineage;
import io.trellis.metadata.LineageChain;
import io.trellis.metadata.LineageInput;
import io.trellis.metadata.LineageNode;
import io.trellis.metadata.OpenLineageStore.StoredEvent;
import io.trellis.metadata.PredictionProducer;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.Registry;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.RetrainRunner;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.promotion.PromotionWorkflow;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringRunResult;
import io.trellis.workflows.promotion.ScoringWorkflow;
import io.trellis.workflows.promotion.ShadowResult;
import io.trellis.workflows.promotion.Verdict;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 6's compliance setup end to end: the schema is migrated by {@code trellis migrate} as the owner, and every
 * service (the runtime's workers, the registry, the CLI) then runs as a login role in {@code trellis_app} with
 * {@code trellis.db.migrate=false}. Real retrains and promotions on Spark/Delta emit OpenLineage events that are stored,
 * valid, complete and consistent with the lineage tables, and delivered to an HTTP endpoint on loopback; the shadow run's
 * predictions are dataset versions in lineage; an unreachable endpoint never fails a run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestrictedRoleComplianceIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> RETRAIN_STEPS = List.of("SparkSnapshotAndValidate", "SparkBuildFeatures", "SparkTrain", "SparkEvaluate");

    @RegisterExtension
    final TestingConsole console = new TestingConsole();

    private DatabaseConfig owner;
    private String appUrl;
    private String login;
    private Path configFile;
    private HttpServer endpoint;
    private final List<String> received = Collections.synchronizedList(new ArrayList<>());
    private final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
    private TrellisRuntime runtime;
    private Registry registry;
    private final ByteArrayOutputStream progress = new ByteArrayOutputStream();
    private PrintStream out;
    private Schema schema;

    @BeforeAll
    void migrateAsOwnerThenStartTheServicesAsTheApplicationRole() throws Exception {
        owner = TestingPostgreSqlServer.createDatabase(RestrictedRoleComplianceIT.class);
        // The URL must not carry a user: the configured user (app, or the migration user) is the one that connects.
        appUrl = owner.jdbcUrl().replaceAll("([?&])user=[^&]*&?", "$1").replaceAll("[?&]$", "");
        login = "app_" + Long.toHexString(System.nanoTime());
        endpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        endpoint.createContext("/api/v1/lineage", exchange -> {
            try (InputStream body = exchange.getRequestBody()) {
                received.add(new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        endpoint.start();

        TestingSpark.session();
        Path home = TestingSpark.newLake("restricted-role-home");
        configFile = home.resolve("trellis.properties");
        Files.writeString(configFile, String.join("\n",
                "trellis.home=" + home,
                "trellis.jdbc.url=" + appUrl,
                "trellis.db.user=" + login,
                "trellis.db.password=app-secret",
                "trellis.db.migrate=false",
                "trellis.db.migration.user=" + owner.user(),
                "trellis.db.migration.password=" + owner.password(),
                "trellis.code.version=git:e2e",
                "trellis.openlineage.url=http://127.0.0.1:" + endpoint.getAddress().getPort(),
                "trellis.openlineage.api.key=lineage-key",
                ""));
        assertThat(TrellisCli.execute("--config", configFile.toString(), "migrate")).isZero();
        try (Connection c = DriverManager.getConnection(appUrl, owner.user(), owner.password()); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + login + " LOGIN PASSWORD 'app-secret' IN ROLE trellis_app");
        }

        TrellisConfig config = TrellisConfig.load(Optional.of(configFile), Map.of());
        assertThat(config.dbMigrate()).isFalse();
        runtime = TrellisRuntime.open(config);
        registry = runtime.registry();
        out = new PrintStream(progress, true, StandardCharsets.UTF_8);
        new LocalRetrain(runtime, out).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        String yaml = SampleModels.customerChurnYaml();
        registry.applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
        try (InputStream in = getClass().getResourceAsStream("/openlineage/run-event-2-0-2.schema.json")) {
            schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(in);
        }
    }

    @AfterAll
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
        if (endpoint != null) {
            endpoint.stop(0);
        }
    }

    @Test
    @Order(1)
    void aRetrainRunsAsTheApplicationRoleAndItsOpenLineageEventsAreCompleteValidAndDelivered() throws Exception {
        // the services' role really is the restricted one, and `trellis migrate` has nothing left to do
        assertThat(currentUserIsInTrellisApp()).isTrue();
        assertThat(run("migrate")).isZero();
        java.util.regex.Matcher migrated = java.util.regex.Pattern
                .compile("as " + java.util.regex.Pattern.quote(owner.user()) + ": 0 migration\\(s\\) applied, schema version (\\d+)")
                .matcher(out());
        assertThat(migrated.find()).as(out()).isTrue();
        // V8 (OpenLineage events and the widened lineage kinds) is the newest this test needs; later ones may follow.
        assertThat(Integer.parseInt(migrated.group(1))).isGreaterThanOrEqualTo(8);

        RetrainRunner.Outcome outcome = new RetrainRunner(runtime, out).run(new RetrainRequest(MODEL, "alice", "restricted role"));
        assertThat(outcome.status()).as(outcome.message()).isEqualTo(RunStatus.SUCCEEDED);
        int version = outcome.result().version();
        LineageChain lineage = registry.lineage(MODEL, version);
        Map<String, LineageInput> recorded = lineage.inputs().stream().collect(Collectors.toMap(LineageInput::relation, i -> i));
        assertThat(recorded).containsKeys("source", "features");

        List<StoredEvent> events = runtime.metadata().openLineage().events(outcome.runKey());
        assertValid(events);
        Map<String, List<StoredEvent>> byJob = events.stream().collect(Collectors.groupingBy(StoredEvent::jobName));
        assertThat(byJob.keySet()).containsExactlyInAnyOrderElementsOf(RETRAIN_STEPS.stream().map(s -> MODEL + "." + s).toList());
        for (List<StoredEvent> step : byJob.values()) {
            // one attempt per step here: START then COMPLETE of the same OpenLineage run
            assertThat(step).extracting(StoredEvent::eventType).containsExactly("START", "COMPLETE");
            assertThat(step).extracting(StoredEvent::runId).containsOnly(step.get(0).runId());
        }
        // every step's parent is the workflow run
        UUID parent = events.get(0).parentRunId();
        assertThat(events).allSatisfy(e -> {
            assertThat(e.parentRunId()).isEqualTo(parent);
            assertThat(JSON.readTree(e.eventJson()).at("/run/facets/parent/job/name").asText()).isEqualTo(MODEL + ".Retrain");
        });

        // the Delta versions in the events are the ones lineage recorded
        String source = recorded.get("source").dataset().tablePath();
        long sourceVersion = recorded.get("source").dataset().deltaVersion();
        String features = recorded.get("features").dataset().tablePath();
        long featuresVersion = recorded.get("features").dataset().deltaVersion();
        JsonNode snapshot = complete(byJob, "SparkSnapshotAndValidate");
        assertThat(deltaDatasets(snapshot.path("inputs"))).containsExactly(source + "@" + sourceVersion);
        assertThat(snapshot.path("outputs")).isEmpty();
        JsonNode featureStep = complete(byJob, "SparkBuildFeatures");
        assertThat(deltaDatasets(featureStep.path("inputs"))).containsExactly(source + "@" + sourceVersion);
        assertThat(deltaDatasets(featureStep.path("outputs"))).containsExactly(features + "@" + featuresVersion);
        assertThat(featureStep.at("/outputs/0/facets/version/datasetVersion").asText()).isEqualTo(Long.toString(featuresVersion));
        JsonNode train = complete(byJob, "SparkTrain");
        assertThat(deltaDatasets(train.path("inputs"))).containsExactly(features + "@" + featuresVersion);
        assertThat(train.at("/outputs/0/namespace").asText()).isEqualTo(OpenLineageEmitter.ARTIFACT_NAMESPACE);
        assertThat(train.at("/outputs/0/facets/version/datasetVersion").asText()).isEqualTo(lineage.version().artifactSha256());
        JsonNode evaluate = complete(byJob, "SparkEvaluate");
        assertThat(deltaDatasets(evaluate.path("inputs"))).containsExactly(features + "@" + featuresVersion);

        // delivered to the endpoint, with the API key, exactly as stored
        assertThat(events).allSatisfy(e -> {
            assertThat(e.deliveryStatus()).isEqualTo("DELIVERED");
            assertThat(e.deliveryHttpStatus()).isEqualTo(201);
        });
        List<JsonNode> sent = received.stream().map(RestrictedRoleComplianceIT::tree).toList();
        assertThat(sent).containsAll(events.stream().map(e -> tree(e.eventJson())).toList());
        assertThat(authorizations).containsOnly("Bearer lineage-key");

        // the CLI lists them (as the application role too)
        assertThat(run("lineage", "events", outcome.runKey())).isZero();
        assertThat(out()).contains("START trellis/" + MODEL + ".SparkTrain", "COMPLETE trellis/" + MODEL + ".SparkBuildFeatures",
                "| out: file:", "@" + featuresVersion + " |", "delivery: DELIVERED HTTP 201");
        assertThat(run("lineage", "events", outcome.runKey(), "--json")).isZero();
        assertThat(out().lines().map(RestrictedRoleComplianceIT::tree).toList())
                .containsExactlyElementsOf(events.stream().map(e -> tree(e.eventJson())).toList());
        assertThat(run("lineage", "events", "retrain/nope/1")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("No OpenLineage events are recorded for run 'retrain/nope/1'");

        // the application role that ran all this may add audit and lineage-event rows, never change or remove them
        try (Connection c = DriverManager.getConnection(appUrl, login, "app-secret"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE audit_log SET actor = 'mallory'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table audit_log");
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM audit_log"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table audit_log");
            assertThatThrownBy(() -> s.executeUpdate("UPDATE openlineage_events SET job_name = 'x'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table openlineage_events");
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM openlineage_deliveries"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table openlineage_deliveries");
        }
        // ... and the owner cannot rewrite stored events either (append-only trigger)
        try (Connection c = DriverManager.getConnection(appUrl, owner.user(), owner.password()); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE openlineage_events SET job_name = 'x'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("openlineage_events is append-only");
        }
        assertThat(runtime.metadata().auditChain().verify().intact()).isTrue();
    }

    @Test
    @Order(2)
    void aShadowRunsPredictionsAreADatasetVersionLinkedToItsPromotionAndBothModelVersions() throws Exception {
        PromotionRunner promotions = new PromotionRunner(runtime, out);
        registry.grantRoles("bob", Set.of(PrincipalRole.APPROVER), "admin");
        PromotionWorkflow first = promotions.start(new PromotionRequest(MODEL, 1, "production", "alice", "first release"));
        PromotionRunner.Outcome waiting = promotions.follow(first, Duration.ofMinutes(5));
        assertThat(waiting.status()).isEqualTo(PromotionStatus.AWAITING_APPROVAL);
        promotions.decide(waiting.promotionKey(), new ApprovalDecision("bob", Verdict.APPROVE, null));
        assertThat(promotions.follow(first, Duration.ofMinutes(5)).status()).isEqualTo(PromotionStatus.DEPLOYED);

        RetrainRunner.Outcome v2 = new RetrainRunner(runtime, out).run(new RetrainRequest(MODEL, "alice", "second"));
        assertThat(v2.status()).isEqualTo(RunStatus.SUCCEEDED);
        PromotionWorkflow second = promotions.start(new PromotionRequest(MODEL, 2, "staging", "alice", "shadow against v1"));
        PromotionRunner.Outcome staged = promotions.follow(second, Duration.ofMinutes(5));
        assertThat(staged.status()).isEqualTo(PromotionStatus.DEPLOYED);
        ShadowResult shadow = second.progress().stages().get(0).shadow();
        assertThat(shadow.productionVersion()).isEqualTo(1);
        String predictions = shadow.predictions().tablePath();
        long predictionsVersion = shadow.predictions().version();

        // producer of the predictions: both model versions, in that promotion's shadow run
        List<PredictionProducer> producers = runtime.metadata().lineageQueries().predictionProducers(predictions, predictionsVersion);
        assertThat(producers).extracting(PredictionProducer::version).containsExactly(1, 2);
        assertThat(producers).extracting(PredictionProducer::promotionKey).containsOnly(staged.promotionKey());
        // downstream of the source data reaches them
        DownstreamLineage down = runtime.metadata().lineageQueries().downstream(shadow.sourceTable(), null);
        assertThat(down.ofKind(LineageNode.DATASET_VERSION)).anySatisfy(n -> {
            assertThat(n.tablePath()).isEqualTo(predictions);
            assertThat(n.deltaVersion()).isEqualTo(predictionsVersion);
        });
        assertThat(run("lineage", "prediction", predictions, Long.toString(predictionsVersion))).isZero();
        assertThat(out()).contains("written by " + MODEL + " v1 in the shadow run of promotion " + staged.promotionKey(),
                "written by " + MODEL + " v2 in the shadow run of promotion " + staged.promotionKey());

        // the shadow run's OpenLineage events name the same predictions version and both models' artifacts
        List<StoredEvent> events = runtime.metadata().openLineage().events(staged.promotionKey());
        assertValid(events);
        // (the promotion's gates also evaluate the candidate on the holdout: a SparkEvaluate run of the same parent)
        assertThat(events).extracting(e -> e.jobName() + ":" + e.eventType()).containsExactly(
                MODEL + ".SparkEvaluate:START", MODEL + ".SparkEvaluate:COMPLETE",
                MODEL + ".ScoringShadowScore:START", MODEL + ".ScoringShadowScore:COMPLETE");
        assertThat(events).extracting(StoredEvent::parentRunId).containsOnly(events.get(0).parentRunId());
        JsonNode complete = tree(events.get(3).eventJson());
        assertThat(deltaDatasets(complete.path("outputs"))).containsExactly(predictions + "@" + predictionsVersion);
        assertThat(deltaDatasets(complete.path("inputs"))).containsExactly(shadow.sourceTable() + "@" + shadow.sourceVersion());
        assertThat(complete.path("inputs").findValuesAsText("namespace")).filteredOn(OpenLineageEmitter.ARTIFACT_NAMESPACE::equals).hasSize(2);
    }

    @Test
    @Order(3)
    void anUnreachableEndpointIsRecordedAndNeverFailsTheRun() throws Exception {
        endpoint.stop(0);
        endpoint = null;
        ScoringWorkflow wf = runtime.client().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(ScoringWorkflow.workflowId(MODEL, "production", "restricted"))
                .build());
        ScoringRunResult result = wf.run(new ScoringRequest(MODEL, "production", "scheduler"));
        assertThat(result.scoring().rows()).isPositive();

        List<StoredEvent> events = runtime.metadata().openLineage().events(result.runKey());
        assertValid(events);
        assertThat(events).extracting(StoredEvent::eventType).containsExactly("START", "COMPLETE");
        assertThat(events).allSatisfy(e -> {
            assertThat(e.deliveryStatus()).isEqualTo("FAILED");
            assertThat(e.deliveryHttpStatus()).isNull();
            assertThat(e.deliveryError()).isNotBlank();
        });
        assertThat(deltaDatasets(tree(events.get(1).eventJson()).path("outputs")))
                .containsExactly(result.scoring().predictions().tablePath() + "@" + result.scoring().predictions().version());
        assertThat(run("lineage", "events", result.runKey())).isZero();
        assertThat(out()).contains("delivery: FAILED (");
    }

    /** Each event is valid against the schema and survives a round trip through the OpenLineage client's model unchanged. */
    private void assertValid(List<StoredEvent> events) {
        assertThat(events).isNotEmpty();
        for (StoredEvent e : events) {
            assertThat(schema.validate(e.eventJson(), InputFormat.JSON, ctx -> ctx.executionConfig(c -> c.formatAssertionsEnabled(true))))
                    .as("schema errors of %s", e.eventJson()).isEmpty();
            assertThat(tree(OpenLineageClientUtils.toJson(OpenLineageClientUtils.runEventFromJson(e.eventJson()))))
                    .isEqualTo(tree(e.eventJson()));
            assertThat(tree(e.eventJson()).path("schemaURL").asText()).contains("/spec/2-0-2/OpenLineage.json");
        }
    }

    private static JsonNode complete(Map<String, List<StoredEvent>> byJob, String step) {
        return tree(byJob.get(MODEL + "." + step).get(1).eventJson());
    }

    /** The Delta datasets of an event's inputs or outputs, as {@code tablePath@deltaVersion} from the trellis_delta facet. */
    private static List<String> deltaDatasets(JsonNode list) {
        List<String> out = new ArrayList<>();
        for (JsonNode d : list) {
            JsonNode delta = d.path("facets").path(OpenLineageEmitter.DELTA_FACET);
            if (!delta.isMissingNode()) {
                assertThat(d.at("/facets/version/datasetVersion").asText()).isEqualTo(delta.path("deltaVersion").asText());
                out.add(delta.path("tablePath").asText() + "@" + delta.path("deltaVersion").asLong());
            }
        }
        return out;
    }

    private boolean currentUserIsInTrellisApp() {
        try (Connection c = DriverManager.getConnection(appUrl, login, "app-secret"); Statement s = c.createStatement();
             var rs = s.executeQuery("select pg_has_role(current_user, 'trellis_app', 'MEMBER'), rolsuper from pg_roles where rolname = current_user")) {
            rs.next();
            return rs.getBoolean(1) && !rs.getBoolean(2);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private int run(String... args) {
        console.stdout.reset();
        console.stderr.reset();
        String[] full = new String[args.length + 2];
        full[0] = "--config";
        full[1] = configFile.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        return TrellisCli.execute(full);
    }

    private String out() {
        return console.stdout.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return console.stderr.toString(StandardCharsets.UTF_8);
    }
}
