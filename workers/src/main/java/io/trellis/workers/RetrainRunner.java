package io.trellis.workers;

import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RunStatus;
import java.io.PrintStream;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Starts a retrain, shows its progress, waits for it and prints the summary (or the failure and its audit rows). */
public final class RetrainRunner {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    /** How a run ended, as the CLI reports it. */
    public record Outcome(String runKey, RunStatus status, RetrainResult result, String failureType, String message) {}

    private final TrellisRuntime runtime;
    private final PrintStream out;

    public RetrainRunner(TrellisRuntime runtime, PrintStream out) {
        this.runtime = runtime;
        this.out = out;
    }

    public Outcome run(RetrainRequest request) {
        WorkflowStub stub = new RetrainLauncher(runtime.client(), Clock.systemUTC()).start(request);
        String runKey = stub.getExecution().getWorkflowId();
        out.println("Started " + runKey + " (Temporal workflow ID; namespace " + runtime.config().temporalNamespace() + ")");
        try (ProgressPrinter progress = new ProgressPrinter(runtime.client(), stub, out).start()) {
            RetrainResult result = stub.getResult(RetrainResult.class);
            progress.close();
            RunSummary.print(result, runtime.registry(), out);
            return new Outcome(runKey, result.status(), result, null, result.message());
        } catch (WorkflowFailedException e) {
            String type = null;
            String message = e.getMessage();
            if (e.getCause() instanceof ApplicationFailure af) {
                type = af.getType();
                message = af.getOriginalMessage();
            }
            RunStatus status = runtime.registry().run(runKey)
                    .map(r -> RunStatus.valueOf(r.status().name())).orElse(RunStatus.FAILED);
            out.println();
            out.println("══ Retrain " + runKey + " — " + status + (type == null ? "" : " (" + type + ")"));
            out.println(message);
            out.println();
            out.println("Audit trail of this run");
            for (AuditEntry a : runtime.registry().auditTrail(new AuditQuery(null, runKey, 200))) {
                out.printf(Locale.ROOT, "  %s  %-10s %-28s %-8s %s%n", TIME.format(a.occurredAt()), a.actor(), a.action(),
                        a.outcome(), a.message() == null ? "" : a.message());
            }
            return new Outcome(runKey, status, null, type, message);
        }
    }
}
