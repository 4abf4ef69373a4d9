package io.trellis.workers.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.client.WorkflowStub;
import io.trellis.metadata.RunStatus;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.RetrainOverrides;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.RetrainLauncher;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code trellis status} following real retrains run by another runtime (the role {@code trellis api} or a worker plays),
 * once through Temporal (live step and Spark progress) and once from PostgreSQL alone (the embedded case), with the exit
 * codes scripts rely on; and {@code trellis retrain}'s override options refusing bad input with exit 2.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatusCliIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    @RegisterExtension
    final TestingConsole console = new TestingConsole();

    private TrellisRuntime runtime;
    private Path embeddedConfig;
    private Path clusterConfig;

    @BeforeAll
    void start() throws Exception {
        Map<String, String> settings = TestingTrellisConfig.settings(StatusCliIT.class);
        runtime = TrellisRuntime.open(io.trellis.workers.TrellisConfig.load(java.util.Optional.empty(), settings));
        new LocalRetrain(runtime, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).generateSampleData(
                new SampleDataOptions(runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 11, SampleDataOptions.NO_DRIFT, 1.0),
                "loader");
        String yaml = SampleModels.customerChurnYaml();
        runtime.registry().applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "loader");
        StringBuilder properties = new StringBuilder();
        settings.forEach((env, value) -> properties.append(env.toLowerCase(Locale.ROOT).replace('_', '.')).append('=').append(value).append('\n'));
        Path home = Path.of(settings.get("TRELLIS_HOME"));
        embeddedConfig = home.resolve("embedded.properties");
        Files.writeString(embeddedConfig, properties.toString());
        // The same stack seen as a cluster: the runtime's Temporal server is reachable on loopback.
        clusterConfig = home.resolve("cluster.properties");
        Files.writeString(clusterConfig, properties + "trellis.temporal.address="
                + runtime.client().getWorkflowServiceStubs().getOptions().getTarget() + "\n");
    }

    @AfterAll
    void stop() {
        runtime.close();
    }

    /** Waits until the run's row exists and names its step (the workflow's first activity has run). */
    private void awaitStep(String runKey) throws InterruptedException {
        java.time.Instant deadline = java.time.Instant.now().plusSeconds(60);
        while (runtime.registry().run(runKey).map(r -> r.currentStep() == null).orElse(true)) {
            assertThat(java.time.Instant.now()).as("run %s starts", runKey).isBefore(deadline);
            Thread.sleep(50);
        }
    }

    private String out() {
        return console.stdout.toString(StandardCharsets.UTF_8);
    }

    @Test
    void statusFollowsARunLiveUntilItEndsAndExitCodesTellTheOutcome() throws Exception {
        // unknown run: 3, named
        assertThat(TrellisCli.execute("--config", embeddedConfig.toString(), "status", "retrain/" + MODEL + "/nope", "--once"))
                .isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(console.stderr.toString(StandardCharsets.UTF_8)).contains("No run 'retrain/" + MODEL + "/nope' is recorded");

        RetrainLauncher launcher = new RetrainLauncher(runtime.client(), Clock.systemUTC());
        WorkflowStub first = launcher.start(new RetrainRequest(MODEL, "carol", "status test"));
        String firstKey = first.getExecution().getWorkflowId();
        awaitStep(firstKey);
        int followed = TrellisCli.execute("--config", clusterConfig.toString(), "status", firstKey, "--interval", "0.2");
        String live = out();
        assertThat(followed).as(live).isEqualTo(TrellisCli.EXIT_OK);
        assertThat(live).contains("Run " + firstKey + " of " + MODEL + " — triggered by carol", "(status test)")
                // the live line: the workflow's step, and the running Spark step's jobs, stages and tasks (its heartbeat)
                .containsPattern("\\[[2-5]/8] [a-z +]+ · [a-z +]+: Spark jobs \\d+ done, \\d+ running; stages \\d+/\\d+; ")
                .contains("══ " + firstKey + " — SUCCEEDED", "version 1 [REGISTERED] logistic_regression", "PASS min_auc",
                        "PASS beats_champion");
        assertThat(first.getResult(RetrainResult.class).status().name()).isEqualTo("SUCCEEDED");

        // A run that fails its gates (L1 with regParam so large that every coefficient is 0: one score for all, AUC 0.5),
        // followed from PostgreSQL alone as in the embedded case: --once says RUNNING with 7 first, then the outcome with 6.
        console.stdout.reset();
        WorkflowStub second = launcher.start(new RetrainRequest(MODEL, "carol", "flat model",
                RetrainOverrides.of(null, null, Map.of("regParam", 1000.0, "elasticNetParam", 1.0))));
        String secondKey = second.getExecution().getWorkflowId();
        awaitStep(secondKey);
        assertThat(TrellisCli.execute("--config", embeddedConfig.toString(), "status", secondKey, "--once"))
                .as(out()).isEqualTo(TrellisCli.EXIT_STILL_RUNNING);
        assertThat(out()).contains("overrides: hyperparameters {elasticNetParam=1.0, regParam=1000.0}").containsPattern("(?m)^RUNNING$")
                .containsPattern("RUNNING · (snapshot \\+ validate|build features|train \\+ evaluate) \\(registry\\)");
        console.stdout.reset();
        int gateFailed = TrellisCli.execute("--config", embeddedConfig.toString(), "status", secondKey, "--interval", "0.2");
        assertThat(gateFailed).as(out()).isEqualTo(TrellisCli.EXIT_GATE_FAILED);
        assertThat(out()).contains("══ " + secondKey + " — GATE_FAILED", "[REJECTED]", "regParam=1000.0", "elasticNetParam=1.0",
                "FAIL min_auc");
        assertThat(runtime.registry().run(secondKey).orElseThrow().status()).isEqualTo(RunStatus.GATE_FAILED);

        // Finished runs answer at once, also with --once.
        console.stdout.reset();
        assertThat(TrellisCli.execute("--config", embeddedConfig.toString(), "status", firstKey, "--once")).isEqualTo(TrellisCli.EXIT_OK);
        assertThat(out()).contains("SUCCEEDED").doesNotContain("RUNNING");

        // The versions list pages by version number.
        console.stdout.reset();
        assertThat(TrellisCli.execute("--config", embeddedConfig.toString(), "models", "versions", MODEL, "--limit", "1")).isZero();
        assertThat(out()).containsPattern("(?m)^v1 +REGISTERED").doesNotContain("v2 ").contains("next: --after 1");
        console.stdout.reset();
        assertThat(TrellisCli.execute("--config", embeddedConfig.toString(), "models", "versions", MODEL, "--after", "1")).isZero();
        assertThat(out()).containsPattern("(?m)^v2 +REJECTED").doesNotContain("v1 ").doesNotContain("next:");
        assertThat(TrellisCli.execute("--config", embeddedConfig.toString(), "models", "versions", MODEL, "--limit", "0")).isEqualTo(2);
    }

    @Test
    void retrainOverridesThatDoNotFitTheModelAreUsageErrorsAndStartNothing() {
        long runsBefore = runtime.queries().runs(new io.trellis.metadata.RegistryQueries.RunFilter(MODEL, null, null, null, 100)).items().size();
        String[][] bad = {
                {"--param", "maxDepth=3"},
                {"--param", "maxIter=lots"},
                {"--param", "maxIter=2.5"},
                {"--from", "2025-01-03", "--to", "2025-01-02"},
                {"--from", "tomorrow"},
        };
        String[] expected = {
                "--param maxDepth: unknown hyperparameter for logistic_regression",
                "--param maxIter: must be a number, got 'lots'",
                "--param maxIter: must be a whole number, got 2.5",
                "the window is reversed",
                "--from must be an ISO-8601 instant",
        };
        for (int i = 0; i < bad.length; i++) {
            console.stderr.reset();
            String[] args = new String[bad[i].length + 4];
            args[0] = "--config";
            args[1] = embeddedConfig.toString();
            args[2] = "retrain";
            args[3] = MODEL;
            System.arraycopy(bad[i], 0, args, 4, bad[i].length);
            assertThat(TrellisCli.execute(args)).as(String.join(" ", bad[i])).isEqualTo(2);
            assertThat(console.stderr.toString(StandardCharsets.UTF_8)).as(String.join(" ", bad[i])).contains(expected[i]);
        }
        assertThat(runtime.queries().runs(new io.trellis.metadata.RegistryQueries.RunFilter(MODEL, null, null, null, 100)).items())
                .hasSize((int) runsBefore);
    }
}
