package io.trellis.workers.cli;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.trellis.metadata.MonitoringStore;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.TrellisException;
import io.trellis.workers.RunLabels;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.monitor.FeatureDriftResult;
import io.trellis.workflows.monitor.MonitorDecision;
import io.trellis.workflows.monitor.MonitorRequest;
import io.trellis.workflows.monitor.MonitorResult;
import io.trellis.workflows.monitor.MonitorWorkflow;
import java.io.PrintStream;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "monitor", mixinStandardHelpOptions = true,
        description = {"Compare the latest window with the live version's training snapshot (feature drift, score drift,",
                "AUC on labelled rows); retrain when the spec's monitoring policy fires. Prints a summary and the report.",
                "Subcommand: series MODEL [ENV] --feature F --statistic S prints one statistic's time series."},
        subcommands = MonitorCommand.Series.class)
final class MonitorCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    // Optional only so that the series subcommand can follow "monitor"; call() requires it.
    @Parameters(index = "0", paramLabel = "MODEL", arity = "0..1")
    String model;

    @Parameters(index = "1", paramLabel = "ENVIRONMENT", arity = "0..1",
            description = "Environment whose live version is watched (default: the spec's monitoring.environment).")
    String environment;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Option(names = "--cron", description = {"Instead of one run now, schedule monitoring with this cron expression (UTC):",
            "a Temporal cron workflow, one run per tick."})
    String cron;

    @Option(names = "--scheduled", description = "Schedule monitoring with the spec's monitoring.schedule.")
    boolean scheduled;

    @Option(names = "--history", description = "Instead of a run, list the model's recent monitoring runs (newest first).")
    boolean history;

    @Option(names = "--limit", description = "Runs --history lists (default ${DEFAULT-VALUE}).")
    int limit = 20;

    @Override
    public Integer call() {
        if (model == null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Name the model to monitor (trellis monitor MODEL [ENV]), or print a"
                    + " statistic's time series with trellis monitor series MODEL [ENV] --feature F --statistic S.");
        }
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            ModelSpec spec = ModelSpecLoader.parse(runtime.registry().findModel(model).orElseThrow(() -> new TrellisException(
                    ErrorCode.UNKNOWN_MODEL, "no model named '" + model + "' is registered; apply its spec first (trellis models apply)"))
                    .specYaml(), "registry:" + model);
            String env = environment == null ? spec.monitoring().environment() : environment;
            if (history) {
                printHistory(runtime.monitoring().runs(model, limit), System.out);
                return TrellisCli.EXIT_OK;
            }
            String schedule = cron;
            if (scheduled) {
                schedule = spec.monitoring().schedule();
                if (schedule == null) {
                    throw new TrellisException(ErrorCode.INVALID_REQUEST, "the spec of " + model + " has no monitoring.schedule;"
                            + " add one (e.g. schedule: \"0 6 * * *\") or pass --cron");
                }
            }
            if (schedule != null) {
                return schedule(runtime, env, schedule);
            }
            String id = MonitorWorkflow.workflowId(model, env, RunLabels.now());
            MonitorWorkflow wf = runtime.client().newWorkflowStub(MonitorWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION)
                    .setWorkflowId(id)
                    .setMemo(Map.of("model", model, "environment", env))
                    .build());
            System.out.println("Started " + id);
            try {
                MonitorResult r = wf.run(new MonitorRequest(model, env, actor));
                print(r, System.out);
                return r.decision() == MonitorDecision.NEEDS_ATTENTION ? TrellisCli.EXIT_RUN_FAILED : TrellisCli.EXIT_OK;
            } catch (WorkflowFailedException e) {
                throw TrellisCli.asTrellisException(e);
            }
        }
    }

    private int schedule(TrellisRuntime runtime, String env, String schedule) {
        String id = MonitorWorkflow.scheduleId(model, env);
        MonitorWorkflow wf = runtime.client().newWorkflowStub(MonitorWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(id)
                .setCronSchedule(schedule)
                .setMemo(Map.of("model", model, "environment", env, "cron", schedule))
                .build());
        try {
            WorkflowClient.start(wf::run, new MonitorRequest(model, env, actor));
        } catch (io.temporal.client.WorkflowExecutionAlreadyStarted e) {
            throw new TrellisException(ErrorCode.INVALID_STATE, "monitoring of " + model + " in " + env
                    + " is already scheduled (" + id + "); terminate it in the Temporal UI or with tctl to change it");
        } catch (IllegalArgumentException | io.grpc.StatusRuntimeException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "bad cron expression '" + schedule + "': " + e.getMessage());
        }
        System.out.println("Scheduled " + id + " (cron '" + schedule + "', UTC)");
        if (runtime.embeddedTemporal()) {
            System.out.println("(embedded mode: the schedule lives as long as this process; use a Temporal cluster for lasting schedules)");
        }
        return TrellisCli.EXIT_OK;
    }

    static void print(MonitorResult r, PrintStream out) {
        out.printf("%s%s in %s: %s%n", r.modelName(), r.version() == null ? "" : " v" + r.version(), r.environment(), r.decision());
        out.println("  " + r.reason());
        if (r.retrainWorkflowId() != null) {
            out.println("  retrain started: " + r.retrainWorkflowId());
        }
        if (r.drift() != null) {
            var d = r.drift();
            out.printf(Locale.ROOT, "  window %s .. %s of %s @ v%d: %,d rows vs %,d reference rows%n", d.windowFrom(), d.windowTo(),
                    d.sourceTable(), d.sourceVersion(), d.currentRows(), d.referenceRows());
            out.printf(Locale.ROOT, "  score PSI %s, AUC on %,d labelled rows %s%n", fmt(d.predictionPsi()), d.labelledRows(),
                    fmt(d.currentAuc()));
            out.println("  scores: " + (d.scoresFrom() == null ? "none (the window was not scored)" : d.scoresFrom()));
            out.printf(Locale.ROOT, "  %-24s %8s %8s  %s%n", "feature", "PSI", "KS", "severity");
            for (FeatureDriftResult f : d.features()) {
                out.printf(Locale.ROOT, "  %-24s %8s %8s  %s%s%n", f.feature(), fmt(f.psi()), fmt(f.ks()), f.severity(),
                        f.finding() == null ? "" : " (" + f.finding() + ")");
            }
            for (String finding : d.findings()) {
                out.println("  finding: " + finding);
            }
        }
        out.println("  report: " + r.reportUri());
    }

    static void printHistory(List<MonitoringStore.MonitoringRun> runs, PrintStream out) {
        if (runs.isEmpty()) {
            out.println("no monitoring runs recorded yet; run trellis monitor MODEL");
            return;
        }
        for (MonitoringStore.MonitoringRun r : runs) {
            out.printf(Locale.ROOT, "%s  %-10s %-4s %-23s %s%n", r.measuredAt().truncatedTo(ChronoUnit.SECONDS), r.environment(),
                    r.modelVersion() == null ? "-" : "v" + r.modelVersion(), r.decision(), r.runKey());
            out.println("    " + r.reason());
            if (r.retrainRunKey() != null) {
                out.println("    retrain: " + r.retrainRunKey());
            }
            if (r.reportUri() != null) {
                out.println("    report: " + r.reportUri());
            }
        }
    }

    @Command(name = "series", mixinStandardHelpOptions = true,
            description = {"Print one monitoring statistic's time series, oldest first: per feature psi, ks or null_rate;",
                    "the score distribution's psi (--feature " + MonitoringStore.PREDICTION + "); the live model's auc or auc_drop",
                    "(feature " + MonitoringStore.MODEL + ", the default for those two)."})
    static final class Series implements Callable<Integer> {
        @ParentCommand
        MonitorCommand monitor;

        @Parameters(index = "0", paramLabel = "MODEL")
        String model;

        @Parameters(index = "1", paramLabel = "ENVIRONMENT", arity = "0..1", description = "Only runs that watched this environment.")
        String environment;

        @Option(names = "--feature", paramLabel = "F", description = "A feature, " + MonitoringStore.PREDICTION + " or " + MonitoringStore.MODEL + ".")
        String feature;

        @Option(names = "--statistic", paramLabel = "S", required = true, description = "psi, ks, null_rate, auc or auc_drop.")
        String statistic;

        @Option(names = "--limit", description = "The latest N points (default ${DEFAULT-VALUE}).")
        int limit = 100;

        @Override
        public Integer call() {
            String f = MonitoringStore.seriesFeature(feature, statistic);
            try (TrellisRuntime runtime = TrellisRuntime.open(monitor.root.config())) {
                printSeries(model, environment, f, statistic, runtime.monitoring().series(model, environment, f, statistic, limit),
                        runtime.monitoring(), System.out);
                return TrellisCli.EXIT_OK;
            }
        }
    }

    static void printSeries(String model, String environment, String feature, String statistic, List<MonitoringStore.Point> points,
                            MonitoringStore monitoring, PrintStream out) {
        if (points.isEmpty()) {
            out.println("no " + statistic + " of " + feature + " recorded for " + model + (environment == null ? "" : " in " + environment)
                    + "; series with points: " + monitoring.seriesNames(model).stream().map(n -> n.feature() + "/" + n.statistic()).toList());
            return;
        }
        out.printf(Locale.ROOT, "%s of %s, %s%s: %d points, oldest first%n", statistic, feature, model,
                environment == null ? "" : " in " + environment, points.size());
        for (MonitoringStore.Point p : points) {
            out.printf(Locale.ROOT, "%s  %-10s %-4s %10.4f  %-11s %s%n", p.measuredAt().truncatedTo(ChronoUnit.SECONDS), p.environment(),
                    p.modelVersion() == null ? "-" : "v" + p.modelVersion(), p.value(), p.severity() == null ? "" : p.severity(), p.runKey());
        }
    }

    private static String fmt(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }
}
