package io.trellis.workers;

import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.common.converter.DataConverter;
import io.trellis.workflows.activities.SparkStepProgress;
import io.trellis.workflows.retrain.RetrainProgress;
import java.io.PrintStream;
import java.util.Optional;

/**
 * Shows a run's progress while it runs: the workflow's {@code progress} query for the step, and the pending
 * Spark activity's heartbeat details (jobs, stages, tasks) from Temporal, the same data the Temporal UI shows.
 * Prints a line only when something changed, so it reads well in a terminal and in CI logs alike.
 */
public final class ProgressPrinter implements AutoCloseable {
    private final WorkflowClient client;
    private final WorkflowStub stub;
    private final PrintStream out;
    private final Thread thread;
    private volatile boolean running = true;
    private String last = "";

    public ProgressPrinter(WorkflowClient client, WorkflowStub stub, PrintStream out) {
        this.client = client;
        this.stub = stub;
        this.out = out;
        this.thread = new Thread(this::loop, "trellis-progress");
        this.thread.setDaemon(true);
    }

    public ProgressPrinter start() {
        thread.start();
        return this;
    }

    private void loop() {
        while (running) {
            try {
                String line = render();
                if (line != null && !line.equals(last)) {
                    out.println(line);
                    last = line;
                }
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the run may have just finished, or the query raced its start: try again next tick
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    public String render() {
        RetrainProgress p = stub.query("progress", RetrainProgress.class);
        StringBuilder line = new StringBuilder(String.format("  [%d/%d] %s", p.stepNumber(), p.totalSteps(), p.step().label()));
        DescribeWorkflowExecutionResponse d = client.getWorkflowServiceStubs().blockingStub().describeWorkflowExecution(
                DescribeWorkflowExecutionRequest.newBuilder()
                        .setNamespace(client.getOptions().getNamespace())
                        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(stub.getExecution().getWorkflowId()))
                        .build());
        for (PendingActivityInfo a : d.getPendingActivitiesList()) {
            if (a.getAttempt() > 1) {
                line.append(" · attempt ").append(a.getAttempt());
                if (a.hasLastFailure()) {
                    line.append(" (last failure: ").append(a.getLastFailure().getMessage()).append(')');
                }
            }
            if (a.hasHeartbeatDetails()) {
                SparkStepProgress sp = DataConverter.getDefaultInstance().fromPayloads(0,
                        Optional.of(a.getHeartbeatDetails()), SparkStepProgress.class, SparkStepProgress.class);
                line.append(" · ").append(sp.describe().replaceAll("; [0-9.]+s$", ""));
            }
        }
        return line.toString();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
