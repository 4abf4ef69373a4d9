package io.trellis.workers.cli;

import io.trellis.metadata.ModelVersionRecord;
import io.trellis.metadata.RunRecord;
import io.trellis.metadata.RunStatus;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.ProgressPrinter;
import io.trellis.workers.TrellisRuntime;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code trellis status RUN}: a run's state from PostgreSQL and, while it runs, its live progress: with a configured
 * Temporal cluster the workflow's current step and the running Spark step's jobs, stages and tasks (its heartbeat),
 * refreshed until the run ends; then the outcome, the version with its metrics and gate results, or the failure.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show a retrain run's progress live (current step, Spark jobs/stages/tasks) until it ends, then its outcome,"
                + " version, metrics and gate results.",
                "Live Spark progress needs a Temporal cluster (trellis.temporal.address): the embedded stack's workflows live in the"
                        + " process that runs them, so without one the step shown is the registry's.",
                "Exit codes: 0 succeeded; 3 unknown run; 4 failed (a step or data validation); 6 gates failed (version registered as"
                        + " REJECTED); 7 still running (with --once)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the run SUCCEEDED", "3:no such run", "4:the run FAILED or failed data validation",
                "6:the run's version failed its gates (GATE_FAILED)", "7:the run is still RUNNING (--once)"})
final class StatusCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(paramLabel = "RUN", description = "The run key, e.g. retrain/customer-churn/20261201T203000Z-ab12.")
    String runKey;

    @Option(names = "--once", description = "Print the state once and exit (7 while the run is still running), for scripts.")
    boolean once;

    @Option(names = "--interval", paramLabel = "SECONDS", description = "Seconds between refreshes (default 1).")
    double interval = 1.0;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Give up following after this long (exit 7); default: no limit.")
    Double timeout;

    @Override
    public Integer call() throws InterruptedException {
        if (interval <= 0 || interval > 3600) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--interval must be between 0 and 3600 seconds, was " + interval);
        }
        PrintStream out = System.out;
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            RunRecord run = find(runtime);
            out.println("Run " + run.runKey() + " of " + run.modelName() + " — triggered by " + run.triggeredBy() + " at " + run.startedAt()
                    + (run.reason() == null ? "" : " (" + run.reason() + ")"));
            if (run.overrides() != null) {
                out.println("  overrides: " + describe(run.overrides()));
            }
            ProgressPrinter live = runtime.embeddedTemporal() ? null
                    : new ProgressPrinter(runtime.client(), runtime.client().newUntypedWorkflowStub(run.runKey()), out);
            Instant deadline = timeout == null ? Instant.MAX : Instant.now().plusMillis((long) (timeout * 1000));
            String last = null;
            while (run.status() == RunStatus.RUNNING) {
                String line = progressLine(run, live);
                if (!line.equals(last)) {
                    out.println(line);
                    last = line;
                }
                if (once || Instant.now().isAfter(deadline)) {
                    out.println("RUNNING");
                    return TrellisCli.EXIT_STILL_RUNNING;
                }
                Thread.sleep((long) (interval * 1000));
                run = find(runtime);
            }
            return outcome(runtime, run, out);
        }
    }

    private RunRecord find(TrellisRuntime runtime) {
        return runtime.registry().run(runKey).orElseThrow(() -> new TrellisException(ErrorCode.INVALID_REQUEST,
                "No run '" + runKey + "' is recorded; list runs with GET /api/v1/runs or trellis audit --action retrain.started."));
    }

    /** The workflow's step and the Spark heartbeat when Temporal is reachable, else the step the registry recorded. */
    private static String progressLine(RunRecord run, ProgressPrinter live) {
        if (live != null) {
            try {
                return live.render().strip();
            } catch (RuntimeException e) {
                // the workflow just ended, or its query raced the start: fall back to the registry for this tick
            }
        }
        return "RUNNING" + (run.currentStep() == null ? "" : " · " + run.currentStep() + " (registry)");
    }

    private static int outcome(TrellisRuntime runtime, RunRecord run, PrintStream out) {
        out.println();
        out.println("══ " + run.runKey() + " — " + run.status() + " at " + run.finishedAt() + " ("
                + Duration.between(run.startedAt(), run.finishedAt()).toMillis() / 1000.0 + " s)");
        if (run.failureMessage() != null) {
            out.println((run.failureStep() == null ? "" : "failed at " + run.failureStep() + ": ") + run.failureMessage());
        }
        ModelVersionRecord version = runtime.queries().versionOfRun(run.runKey()).orElse(null);
        if (version != null) {
            out.println("version " + version.version() + " [" + version.status() + "] " + version.algorithm() + " " + version.params());
            version.metrics().forEach((k, v) -> out.printf(Locale.ROOT, "  %-12s %.4f%n", k, v));
            out.println("Gates");
            for (Map<String, Object> g : version.gateResults()) {
                out.printf(Locale.ROOT, "  %s %-15s %s%n", Boolean.TRUE.equals(g.get("passed")) ? "PASS" : "FAIL", g.get("gate"), g.get("detail"));
            }
        }
        return switch (run.status()) {
            case SUCCEEDED -> TrellisCli.EXIT_OK;
            case GATE_FAILED -> TrellisCli.EXIT_GATE_FAILED;
            default -> TrellisCli.EXIT_RUN_FAILED;
        };
    }

    @SuppressWarnings("unchecked")
    private static String describe(Map<String, Object> overrides) {
        StringBuilder sb = new StringBuilder();
        if (overrides.get("from") != null || overrides.get("to") != null) {
            sb.append("window [").append(overrides.get("from") == null ? "-∞" : overrides.get("from")).append(", ")
                    .append(overrides.get("to") == null ? "+∞" : overrides.get("to")).append(")");
        }
        Object hp = overrides.get("hyperparameters");
        if (hp instanceof Map<?, ?> m && !m.isEmpty()) {
            sb.append(sb.length() == 0 ? "" : "; ").append("hyperparameters ").append(new java.util.TreeMap<>((Map<String, Object>) m));
        }
        return sb.toString();
    }
}
