package io.trellis.workers;

import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RunStatus;
import java.io.PrintStream;
import java.time.Clock;

/** Starts a retrain, shows its progress, waits for it and prints the summary (or the failure and its audit rows). */
public final class RetrainRunner {
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
            runtime.costs().printRun(runKey, out);
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
            RunSummary.printAuditTrail(runtime.registry(), runKey, out);
            runtime.costs().printRun(runKey, out);
            return new Outcome(runKey, status, null, type, message);
        }
    }
}
