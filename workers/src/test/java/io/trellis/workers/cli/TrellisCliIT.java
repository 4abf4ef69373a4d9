package io.trellis.workers.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import io.trellis.workers.TestingTrellisConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The trellis command as a user runs it, in process: the main job, bad input, exit codes. */
class TrellisCliIT {
    private static Path configFile;
    private static String jdbcUrl;
    private static String dbUser;
    private static String dbPassword;
    @RegisterExtension
    final TestingConsole console = new TestingConsole();
    private final ByteArrayOutputStream stdout = console.stdout;
    private final ByteArrayOutputStream stderr = console.stderr;

    @BeforeAll
    static void config() throws Exception {
        Map<String, String> settings = TestingTrellisConfig.settings(TrellisCliIT.class);
        jdbcUrl = settings.get("TRELLIS_JDBC_URL");
        dbUser = settings.get("TRELLIS_DB_USER");
        dbPassword = settings.get("TRELLIS_DB_PASSWORD");
        configFile = Path.of(settings.get("TRELLIS_HOME")).resolve("trellis.properties");
        StringBuilder properties = new StringBuilder();
        // The CLI reads the same settings from a file, named trellis.home for TRELLIS_HOME and so on.
        settings.forEach((env, value) -> properties.append(env.toLowerCase(java.util.Locale.ROOT).replace('_', '.'))
                .append('=').append(value).append('\n'));
        Files.writeString(configFile, properties.toString());
    }

    @Test
    void localRunsTheWholeLifecycleAndPrintsTheSummary() throws Exception {
        int exit = TrellisCli.execute("--config", configFile.toString(), "local", "--rows", "2000", "--days", "2", "--as", "carol");

        String out = stdout.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(out + stderr).isEqualTo(TrellisCli.EXIT_OK);
        assertThat(out).contains("Sample data: 2,000 rows in 2 daily batches", "Model customer-churn registered",
                "Started retrain/customer-churn/", "[4/8] train", "SUCCEEDED", "candidate v1", "Gates",
                "Lineage of customer-churn v1", "carol", "retrain.succeeded",
                "Started promote/customer-churn/v1/production/", "stage staging", "shadow:", "stage production",
                "embedded-approver (approver role) approves", "— DEPLOYED", "Environments of customer-churn",
                "production  live v1", "staging     live v1");

        // The run summary prices every attempt of every Spark step; trellis costs rolls the usage up.
        assertThat(out).contains("Estimated cost of this run (USD; every attempt counts)").containsPattern("\\n  train\\s+1\\s+SUCCEEDED");
        String runKey = out.lines().filter(l -> l.startsWith("Started retrain/customer-churn/")).findFirst().orElseThrow()
                .substring("Started ".length()).split(" ")[0];
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "costs", "--run", runKey)).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("Run " + runKey, "snapshot + validate", "build features", "evaluate")
                .containsPattern("total\\s+\\d+");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "costs", "--by", "environment", "--model", "customer-churn")).isZero();
        // dev: the retrain, and the promotion's own evaluation (accounted as a training step); staging: the shadow run.
        assertThat(stdout.toString(StandardCharsets.UTF_8)).containsPattern("\\ndev\\s+customer-churn\\s+\\d+\\s+")
                .containsPattern("\\nstaging\\s+customer-churn\\s+1\\s+");
        assertThat(TrellisCli.execute("--config", configFile.toString(), "costs", "--by", "week")).isEqualTo(2);

        stdout.reset();
        int audit = TrellisCli.execute("--config", configFile.toString(), "audit", "--model", "customer-churn");
        assertThat(audit).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("model.spec_applied", "model.registered");

        // production has only ever had v1 live: nothing to roll back to, said clearly, audited, nothing changed
        int rollback = TrellisCli.execute("--config", configFile.toString(), "rollback", "customer-churn", "production",
                "--reason", "test", "--as", "bob");
        assertThat(rollback).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("error [INVALID_STATE]");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "environments", "customer-churn")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("production  live v1");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "audit", "--limit", "3")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).containsPattern("environment.rolled_back\\s+REJECTED");

        // batch scoring with the version live in production
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "score", "customer-churn", "production")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("customer-churn v1 scored", "predictions/customer-churn/production");

        // monitoring the live version: the window is part of its training snapshot, so nothing drifts
        stdout.reset();
        int monitor = TrellisCli.execute("--config", configFile.toString(), "monitor", "customer-churn", "--as", "ops");
        assertThat(monitor).as(stdout.toString(StandardCharsets.UTF_8) + stderr).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("Started monitor/customer-churn/production/",
                "customer-churn v1 in production: NO_DRIFT", "feature", "PSI", "monthly_charges", "report: file:", "report.html",
                "scores: predictions table ", "predictions/customer-churn/production: run score/customer-churn/production/");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "monitor", "customer-churn", "--history")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).containsPattern("production\\s+v1\\s+NO_DRIFT\\s+monitor/customer-churn/production/")
                .contains("report: file:");
        assertThat(TrellisCli.execute("--config", configFile.toString(), "monitor", "no-such-model")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("error [UNKNOWN_MODEL]");
        // a statistic's time series
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "monitor", "series", "customer-churn", "production",
                "--feature", "monthly_charges", "--statistic", "psi")).as(stderr.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("psi of monthly_charges, customer-churn in production: 1 points")
                .containsPattern("production\\s+v1\\s+0\\.\\d{4}\\s+NONE\\s+monitor/customer-churn/production/");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "monitor", "series", "customer-churn", "--statistic", "auc"))
                .isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("auc of __model__, customer-churn: 1 points");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "monitor", "series", "customer-churn", "--feature", "nope",
                "--statistic", "ks")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("no ks of nope recorded for customer-churn; series with points: [")
                .contains("monthly_charges/psi");
        assertThat(TrellisCli.execute("--config", configFile.toString(), "monitor", "series", "customer-churn", "--statistic", "mean"))
                .isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("Unknown statistic 'mean'");
        // the recorded training re-run from its pinned Delta versions, spec and seed reproduces its metrics
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "reproduce", "customer-churn", "1", "--as", "auditor"))
                .as(stdout + "" + stderr).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("Reproducing customer-churn v1 from ", "features: identical to the recorded ",
                "metrics match").containsPattern("auc\\s+recorded 0\\.\\d+\\s+reproduced 0\\.\\d+\\s+diff \\S+\\s+ok");
        // a recorded metric that the data cannot give is reported, not smoothed over
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl, dbUser, dbPassword);
             java.sql.Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE model_versions SET metrics = jsonb_set(metrics, '{auc}', '0.123') WHERE version = 1");
        }
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "reproduce", "customer-churn", "1")).isEqualTo(TrellisCli.EXIT_RUN_FAILED);
        assertThat(stdout.toString(StandardCharsets.UTF_8)).containsPattern("auc\\s+recorded 0\\.123000000000.*MISMATCH").contains("NOT reproduced");
        assertThat(TrellisCli.execute("--config", configFile.toString(), "reproduce", "no-such-model", "1")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("error [UNKNOWN_MODEL]");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "audit", "verify")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("audit chain intact");
        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "audit", "--limit", "5")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).containsPattern("model.reproduced\\s+SUCCESS").containsPattern("model.reproduced\\s+FAILURE");

        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "promotions", "customer-churn")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("v1 → production  DEPLOYED  requested by carol",
                "approved by embedded-approver", "staging     gates passed", "production  gates passed");
    }

    @Test
    void anInvalidSpecIsRejectedWithExitCodeThreeAndEveryProblemNamed() throws Exception {
        Path bad = Files.createTempFile("bad-spec", ".yaml");
        Files.writeString(bad, "name: x\nsource: {table: raw/t}\nlabel: y\nfeatures: {numeric: [y]}\nalgorithm: {type: svm}\n");

        int exit = TrellisCli.execute("--config", configFile.toString(), "models", "apply", bad.toString());

        assertThat(exit).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(stderr.toString(StandardCharsets.UTF_8))
                .contains("error [INVALID_MODEL_SPEC]")
                .contains("features: the label column 'y' cannot also be a feature")
                .contains("algorithm.type: unknown algorithm 'svm'");

        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "audit", "--limit", "5")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).containsPattern("model.spec_applied\\s+REJECTED");
    }

    @Test
    void ingestAppendsADropOnceAndRejectsOneWhoseSchemaDoesNotMatch() throws Exception {
        Path drop = Files.createTempDirectory("drop-1");
        Files.writeString(drop.resolve("part-1.csv"), "customer_id,spend,segment\nc1,10.5,gold\nc2,3.25,silver\n");
        String[] ingest = {"--config", configFile.toString(), "ingest", "--table", "raw/spend", "--format", "csv", drop.toString()};

        assertThat(TrellisCli.execute(ingest)).as(stderr.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("ingested", "raw/spend: 2 rows, Delta version 0");
        stdout.reset();
        assertThat(TrellisCli.execute(ingest)).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("already ingested", "Delta version 0");

        Path extra = Files.createTempDirectory("drop-2");
        Files.writeString(extra.resolve("part-1.csv"), "customer_id,spend,segment,region\nc3,1.0,gold,north\n");
        int rejected = TrellisCli.execute("--config", configFile.toString(), "ingest", "--table", "raw/spend", "--format", "csv",
                extra.toString());
        assertThat(rejected).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("SCHEMA_MISMATCH").contains("region");

        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "ingest", "--table", "raw/spend", "--format", "csv",
                "--evolve-schema", extra.toString())).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("raw/spend: 1 rows, Delta version 1");

        stdout.reset();
        assertThat(TrellisCli.execute("--config", configFile.toString(), "audit", "--limit", "50")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("dataset.ingested");
    }

    @Test
    void helpAndUsageErrorsUsePicocliExitCodes() {
        assertThat(TrellisCli.execute("--help")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("local", "retrain", "ingest", "audit");
        assertThat(TrellisCli.execute("retrain")).isEqualTo(2);
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("Missing required parameter: 'MODEL'");
    }
}
