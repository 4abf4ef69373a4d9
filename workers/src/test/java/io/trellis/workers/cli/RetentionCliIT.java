package io.trellis.workers.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.DatasetKind;
import io.trellis.metadata.PrincipalRole;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code trellis holds set/list/lift} and {@code trellis retention run --dry-run} as a user runs them (the real
 * {@link TrellisCli} entry point, embedded Temporal, PostgreSQL, Spark and a real Delta feature table), with the
 * refusals' messages and exit codes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetentionCliIT {
    @RegisterExtension
    final TestingConsole console = new TestingConsole();
    private final ByteArrayOutputStream stdout = console.stdout;
    private final ByteArrayOutputStream stderr = console.stderr;

    private Path config;
    private String table;

    @BeforeAll
    void start() throws Exception {
        Map<String, String> settings = new HashMap<>(TestingTrellisConfig.settings(RetentionCliIT.class));
        settings.put("TRELLIS_RETENTION_COMPLIANCE_DAYS", "0");
        try (TrellisRuntime runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), settings))) {
            table = runtime.lake().resolve("features/churn");
            runtime.spark().range(0, 100, 1, 2).write().format("delta").save(table);
            runtime.registry().recordDatasetVersion(table, 0, 100, DatasetKind.FEATURES, null);
            runtime.registry().grantRoles("anna", Set.of(PrincipalRole.AUDITOR), "admin");
            runtime.registry().grantRoles("eve", Set.of(PrincipalRole.ML_ENGINEER), "admin");
        }
        StringBuilder properties = new StringBuilder();
        settings.forEach((env, value) -> properties.append(env.toLowerCase(Locale.ROOT).replace('_', '.')).append('=').append(value).append('\n'));
        config = Path.of(settings.get("TRELLIS_HOME")).resolve("trellis.properties");
        Files.writeString(config, properties.toString());
    }

    @Test
    @Order(1)
    void holdsAreSetListedAndRefusedPrecisely() {
        assertThat(run("holds", "list")).isZero();
        assertThat(out()).contains("(no holds)");

        assertThat(run("holds", "set", "features/churn", "0", "--reason", "matter 2026-17", "--as", "anna")).isZero();
        assertThat(out()).contains("hold 1  " + table + "@0 (features)  set by anna at ", ": matter 2026-17  [IN FORCE]");
        assertThat(run("holds", "list")).isZero();
        assertThat(out()).contains("hold 1  " + table + "@0", "[IN FORCE]");

        assertThat(run("holds", "set", "features/churn", "0", "--reason", "again", "--as", "anna")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [INVALID_STATE]: " + table + "@0 is already under legal hold 1");
        assertThat(run("holds", "set", "features/churn", "9", "--reason", "case", "--as", "anna")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [UNKNOWN_DATASET_VERSION]: No dataset version " + table + "@9 is recorded");
        assertThat(run("holds", "set", "features/churn", "0", "--reason", "case", "--as", "eve")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [FORBIDDEN]: eve may not place or lift legal holds");
        assertThat(run("holds", "set", "features/churn", "0", "--as", "anna")).isEqualTo(2); // --reason is required (picocli usage)
        assertThat(err()).contains("Missing required option: '--reason");
    }

    @Test
    @Order(2)
    void aDryRunPrintsWhatItKeepsAndWhyAndDeletesNothing() {
        assertThat(run("retention", "run", "--dry-run", "--reason", "cli check", "--as", "anna")).isZero();
        assertThat(out()).contains("— DRY RUN (nothing deleted)", "Compliance period: 0 days", "Would delete:", "(nothing)", "Kept (pinned):",
                table + "@0..0", "v0: legal hold 1 (matter 2026-17)", "Would reclaim 0 bytes");
        assertThat(err()).isEmpty();
    }

    @Test
    @Order(3)
    void aLiftedHoldIsListedOnlyWithAll() {
        assertThat(run("holds", "lift", "1", "--reason", "matter closed", "--as", "anna")).isZero();
        assertThat(out()).contains("hold 1  " + table + "@0", "[lifted by anna at ", ": matter closed]");
        assertThat(run("holds", "lift", "1", "--reason", "again", "--as", "anna")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [INVALID_STATE]: Legal hold 1 was already lifted by anna");
        assertThat(run("holds", "lift", "77", "--reason", "x", "--as", "anna")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [UNKNOWN_LEGAL_HOLD]: There is no legal hold 77");
        assertThat(run("holds", "list")).isZero();
        assertThat(out()).contains("(no holds)");
        assertThat(run("holds", "list", "--all")).isZero();
        assertThat(out()).contains("hold 1  " + table + "@0", "[lifted by anna");

        // every decision is in the audit trail, the refusal too
        try (TrellisRuntime runtime = TrellisRuntime.open(TrellisConfig.load(Optional.of(config), Map.of()))) {
            assertThat(runtime.registry().auditTrail(AuditQuery.all().withLimit(100))).extracting(e -> e.action() + " " + e.outcome())
                    .contains("hold.set SUCCESS", "hold.set REJECTED", "retention.planned SUCCESS", "hold.lifted SUCCESS");
        }
    }

    private int run(String... args) {
        stdout.reset();
        stderr.reset();
        String[] full = new String[args.length + 2];
        full[0] = "--config";
        full[1] = config.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        return TrellisCli.execute(full);
    }

    private String out() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }
}
