package io.trellis.workers.cli;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.schedules.Schedules;
import io.trellis.workflows.schedule.OverlapPolicy;
import io.trellis.workflows.schedule.ScheduleDefinition;
import io.trellis.workflows.schedule.ScheduleKind;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "schedules", mixinStandardHelpOptions = true,
        description = {"Per-model retrain and scoring schedules (cron, time-zone aware). Temporal Schedules on a cluster;",
                "a durable scheduler workflow on the embedded server, which then must keep running (trellis worker or api)."},
        subcommands = {SchedulesCommand.Create.class, SchedulesCommand.Update.class, SchedulesCommand.Pause.class,
                SchedulesCommand.Resume.class, SchedulesCommand.Trigger.class, SchedulesCommand.Delete.class,
                SchedulesCommand.ListSchedules.class})
final class SchedulesCommand {
    @ParentCommand
    TrellisCli root;

    static void print(Schedules.ScheduleView v) {
        ScheduleDefinition d = v.definition();
        System.out.printf(Locale.ROOT, "%-40s %-7s %-16s %-20s %-10s %-7s next %s%s%n", d.scheduleId(), d.kind(), "'" + d.cron() + "'",
                d.timeZone(), d.overlap(), v.paused() ? "PAUSED" : "active", v.nextFireTime() == null ? "-" : v.nextFireTime(),
                v.note() == null || v.note().isEmpty() ? "" : "  (" + v.note() + ")");
    }

    /** The definition options shared by create and update. */
    abstract static class Definition {
        @Parameters(index = "0", paramLabel = "MODEL")
        String model;

        @Option(names = "--score", paramLabel = "ENVIRONMENT", description = "A scoring schedule for this environment (default: a retrain schedule).")
        String scoreEnvironment;

        @Option(names = "--cron", required = true, description = "Five-field cron such as '0 2 * * *'.")
        String cron;

        @Option(names = "--time-zone", description = "IANA time zone (default: ${DEFAULT-VALUE}).")
        String timeZone = "UTC";

        @Option(names = "--overlap", description = "SKIP or BUFFER_ONE (default: ${DEFAULT-VALUE}): what a firing does while a run is running.")
        String overlap = "SKIP";

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        ScheduleDefinition definition() {
            ScheduleKind kind = scoreEnvironment == null ? ScheduleKind.RETRAIN : ScheduleKind.SCORE;
            OverlapPolicy policy;
            try {
                policy = OverlapPolicy.valueOf(overlap.toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "--overlap must be SKIP or BUFFER_ONE, was '" + overlap + "'.");
            }
            return new ScheduleDefinition(ScheduleDefinition.scheduleId(kind, model, scoreEnvironment), kind, model, scoreEnvironment, cron,
                    timeZone, policy);
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a model's retrain (or --score ENV scoring) schedule.")
    static final class Create extends Definition implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Override
        public Integer call() {
            ScheduleDefinition d = definition().validated();
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                print(runtime.schedules().create(d, actor));
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true, description = "Change a schedule's cron, time zone or overlap policy.")
    static final class Update extends Definition implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Override
        public Integer call() {
            ScheduleDefinition d = definition().validated();
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                print(runtime.schedules().update(d, actor));
                return TrellisCli.EXIT_OK;
            }
        }
    }

    /** Commands that act on one schedule by ID: open the runtime, act, print what was done. */
    abstract static class ById implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Parameters(index = "0", paramLabel = "SCHEDULE_ID", description = "retrain-<model> or score-<model>-<environment>")
        String scheduleId;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        /** Acts on the schedule and returns the past-tense verb printed before its ID. */
        abstract String act(Schedules schedules);

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                System.out.println(act(runtime.schedules()) + " " + scheduleId);
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Stop firing until resumed.")
    static final class Pause extends ById {
        @Option(names = "--note", description = "Why (shown in lists and the Temporal UI).")
        String note;

        @Override
        String act(Schedules schedules) {
            schedules.pause(scheduleId, note, actor);
            return "Paused";
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Fire again from the next cron time.")
    static final class Resume extends ById {
        @Option(names = "--note", description = "Why.")
        String note;

        @Override
        String act(Schedules schedules) {
            schedules.resume(scheduleId, note, actor);
            return "Resumed";
        }
    }

    @Command(name = "trigger", mixinStandardHelpOptions = true, description = "Fire once now (the overlap policy still applies).")
    static final class Trigger extends ById {
        @Override
        String act(Schedules schedules) {
            schedules.triggerNow(scheduleId, actor);
            return "Triggered";
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a schedule; a run in progress finishes.")
    static final class Delete extends ById {
        @Override
        String act(Schedules schedules) {
            schedules.delete(scheduleId, actor);
            return "Deleted";
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List schedules with their state and next firing.")
    static final class ListSchedules implements Callable<Integer> {
        @ParentCommand
        SchedulesCommand parent;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                runtime.schedules().list().forEach(SchedulesCommand::print);
                return TrellisCli.EXIT_OK;
            }
        }
    }
}
