package io.trellis.workers.cli;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.RetrainRunner;
import io.trellis.workflows.retrain.RunStatus;
import io.trellis.workers.TrellisConfig;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code trellis} command. Exit codes scripts can rely on: 0 success; 1 internal error; 2 usage error;
 * 3 bad input (invalid spec, unknown model, missing table, schema mismatch); 4 the run did not succeed
 * (validation or gate failure, or a failed step); 5 the audit chain is broken ({@code audit verify}); {@code status} only:
 * 6 the run failed its gates, 7 the run is still running ({@code --once}).
 */
@Command(name = "trellis", mixinStandardHelpOptions = true, version = "trellis 0.1.0",
        description = "Durable ML retraining on Temporal, Spark and Delta Lake.",
        subcommands = {
                LocalCommand.class,
                SampleDataCommand.class,
                IngestCommand.class,
                ModelsCommand.class,
                RetrainCommand.class,
                PromoteCommand.class,
                PromotionsCommand.class,
                ApproveCommand.class,
                RejectCommand.class,
                RollbackCommand.class,
                ScoreCommand.class,
                MonitorCommand.class,
                EnvironmentsCommand.class,
                PrincipalsCommand.class,
                TokensCommand.class,
                SchedulesCommand.class,
                ApiCommand.class,
                WorkerCommand.class,
                AuditCommand.class,
                LineageCommand.class,
                ExportCommand.class,
                ReproduceCommand.class,
                ConfigCommand.class,
                BenchRetrainOverheadCommand.class,
                BenchLineageQueriesCommand.class,
                BenchDriftCommand.class,
                BenchApiCommand.class,
                StatusCommand.class,
                MigrateCommand.class,
                CostsCommand.class,
                RetentionCommand.class,
                HoldsCommand.class,
                BudgetCommand.class,
                CommandLine.HelpCommand.class})
public final class TrellisCli {
    public static final int EXIT_OK = 0;
    public static final int EXIT_INTERNAL = 1;
    public static final int EXIT_BAD_INPUT = 3;
    public static final int EXIT_RUN_FAILED = 4;
    /** {@code trellis audit verify} found a broken link in the audit log's hash chain. */
    public static final int EXIT_CHAIN_BROKEN = 5;
    /** {@code trellis status}: the run's version failed its gates (GATE_FAILED). */
    public static final int EXIT_GATE_FAILED = 6;
    /** {@code trellis status --once} (or {@code --timeout}): the run is still RUNNING. */
    public static final int EXIT_STILL_RUNNING = 7;

    @Option(names = "--config", description = "Properties file with trellis.* settings (env TRELLIS_CONFIG); environment variables override it.")
    Path configFile;

    TrellisConfig config() {
        Optional<Path> file = Optional.ofNullable(configFile)
                .or(() -> Optional.ofNullable(System.getenv("TRELLIS_CONFIG")).map(Path::of));
        return TrellisConfig.load(file, System.getenv());
    }

    /** 0 when the run succeeded; 3 when it failed on bad input (spec, model, table, schema); 4 otherwise. */
    static int exitCode(RetrainRunner.Outcome outcome) {
        if (outcome.status() == RunStatus.SUCCEEDED) {
            return EXIT_OK;
        }
        if (outcome.failureType() != null && !outcome.failureType().equals(ErrorCode.DATA_VALIDATION_FAILED.name())) {
            for (ErrorCode code : ErrorCode.values()) {
                if (code.name().equals(outcome.failureType()) && !code.retryable()) {
                    return EXIT_BAD_INPUT;
                }
            }
        }
        return EXIT_RUN_FAILED;
    }

    /** A failed workflow as the CLI reports it: its application failure's code and message. */
    static RuntimeException asTrellisException(io.temporal.client.WorkflowFailedException e) {
        if (e.getCause() instanceof io.temporal.failure.ApplicationFailure af) {
            ErrorCode code = java.util.Arrays.stream(ErrorCode.values()).filter(c -> c.name().equals(af.getType()))
                    .findFirst().orElse(ErrorCode.TRANSIENT);
            return new TrellisException(code, af.getOriginalMessage());
        }
        return e;
    }

    static String defaultActor() {
        String user = System.getenv("TRELLIS_USER");
        if (user == null || user.isBlank()) {
            user = System.getProperty("user.name", "local-user");
        }
        return user;
    }

    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new TrellisCli());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof TrellisException te) {
                cmd.getErr().println("error [" + te.code() + "]: " + te.getMessage());
                return EXIT_BAD_INPUT;
            }
            cmd.getErr().println("error: " + ex);
            ex.printStackTrace(cmd.getErr());
            return EXIT_INTERNAL;
        });
        return cl.execute(args);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
