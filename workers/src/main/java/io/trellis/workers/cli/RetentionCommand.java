package io.trellis.workers.cli;

import io.trellis.workers.RetentionRunner;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.retention.RetentionMode;
import io.trellis.workflows.retention.RetentionReport;
import io.trellis.workflows.retention.RetentionRequest;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "retention", mixinStandardHelpOptions = true,
        description = "Lineage-aware retention: delete old feature/prediction table files and model artifacts that nothing pins.",
        subcommands = {RetentionCommand.Run.class, RetentionCommand.Schedule.class})
final class RetentionCommand {
    @ParentCommand
    TrellisCli root;

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run retention now and print what it deleted (or, with --dry-run, what it would delete) and the bytes reclaimed.")
    static final class Run implements Callable<Integer> {
        @ParentCommand
        RetentionCommand parent;

        @Option(names = "--dry-run", description = "Report only; delete nothing.")
        boolean dryRun;

        @Option(names = "--reason", description = "Why (recorded in the audit trail).")
        String reason;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                RetentionReport report = new RetentionRunner(runtime, Clock.systemUTC())
                        .run(new RetentionRequest(dryRun ? RetentionMode.DRY_RUN : RetentionMode.DELETE, actor, reason));
                RetentionRunner.print(report, System.out);
                return report.warnings().isEmpty() ? TrellisCli.EXIT_OK : TrellisCli.EXIT_RUN_FAILED;
            }
        }
    }

    @Command(name = "schedule", mixinStandardHelpOptions = true,
            description = "Run retention (deleting) on a cron schedule (a Temporal cron workflow, retention/scheduled); --off stops it.")
    static final class Schedule implements Callable<Integer> {
        @ParentCommand
        RetentionCommand parent;

        @Option(names = "--cron", description = "Five-field cron expression, UTC (e.g. '0 3 * * 0').")
        String cron;

        @Option(names = "--off", description = "Stop the scheduled retention.")
        boolean off;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            if (off == (cron != null)) {
                throw new io.trellis.spec.TrellisException(io.trellis.spec.ErrorCode.INVALID_REQUEST, "give exactly one of --cron EXPR and --off");
            }
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                RetentionRunner runner = new RetentionRunner(runtime, Clock.systemUTC());
                if (off) {
                    System.out.println(runner.unschedule() ? "Scheduled retention stopped." : "No scheduled retention was running.");
                } else {
                    System.out.println("Retention scheduled as " + runner.schedule(cron, actor) + " (" + cron + ", UTC).");
                }
                return TrellisCli.EXIT_OK;
            }
        }
    }
}
