package io.trellis.workers;

import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.retention.RetentionItem;
import io.trellis.workflows.retention.RetentionMode;
import io.trellis.workflows.retention.RetentionReport;
import io.trellis.workflows.retention.RetentionRequest;
import io.trellis.workflows.retention.RetentionWorkflow;
import io.trellis.workflows.schedule.CronExpression;
import java.io.PrintStream;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Starts retention runs (on demand or on a cron schedule), waits for them and prints their reports. */
public final class RetentionRunner {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private final TrellisRuntime runtime;
    private final Clock clock;

    public RetentionRunner(TrellisRuntime runtime, Clock clock) {
        this.runtime = runtime;
        this.clock = clock;
    }

    /** Starts one retention run; returns its workflow id ({@code retention/20261202-011500-ab12cd}). */
    public String start(RetentionRequest request) {
        String id = "retention/" + STAMP.format(clock.instant()) + "-" + UUID.randomUUID().toString().substring(0, 6);
        RetentionWorkflow workflow = runtime.client().newWorkflowStub(RetentionWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(id)
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
                .build());
        WorkflowClient.start(workflow::run, request);
        return id;
    }

    /** Starts a run and waits for its report. */
    public RetentionReport run(RetentionRequest request) {
        String id = start(request);
        try {
            return runtime.client().newUntypedWorkflowStub(id).getResult(RetentionReport.class);
        } catch (WorkflowFailedException e) {
            throw failure(id, e);
        }
    }

    /** The report of a finished run; empty while it runs. UNKNOWN: INVALID_REQUEST naming the id. */
    public Optional<RetentionReport> report(String id) {
        if (!id.startsWith("retention/")) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "'" + id + "' is not a retention run id (they start with retention/)");
        }
        WorkflowStub stub = runtime.client().newUntypedWorkflowStub(id);
        try {
            return Optional.of(stub.getResult(0, TimeUnit.MILLISECONDS, RetentionReport.class));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (WorkflowNotFoundException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "No retention run " + id + " exists.");
        } catch (io.temporal.client.WorkflowServiceException e) {
            if (e.getCause() instanceof io.grpc.StatusRuntimeException s && s.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "No retention run " + id + " exists.");
            }
            throw e;
        } catch (WorkflowFailedException e) {
            throw failure(id, e);
        }
    }

    /**
     * Runs retention (DELETE) on a cron schedule: a cron workflow with id {@value RetentionWorkflow#SCHEDULED_ID}, replaced if
     * one runs already. A bad expression is INVALID_REQUEST.
     */
    public String schedule(String cron, String actor) {
        try {
            CronExpression.parse(cron);
        } catch (RuntimeException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "bad cron expression '" + cron + "': " + e.getMessage());
        }
        unschedule();
        RetentionWorkflow workflow = runtime.client().newWorkflowStub(RetentionWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(RetentionWorkflow.SCHEDULED_ID)
                .setCronSchedule(cron)
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
                .build());
        try {
            WorkflowClient.start(workflow::run, new RetentionRequest(RetentionMode.DELETE, actor, "scheduled retention (" + cron + ")"));
        } catch (WorkflowExecutionAlreadyStarted e) {
            throw new TrellisException(ErrorCode.INVALID_STATE, "a scheduled retention is already running; try again");
        }
        runtime.registry().recordAudit(actor, "retention.scheduled", io.trellis.metadata.AuditOutcome.SUCCESS, null, null, null,
                "Retention scheduled: " + cron, java.util.Map.of("cron", cron));
        return RetentionWorkflow.SCHEDULED_ID;
    }

    /** Stops the scheduled retention, if there is one; true when one was stopped. */
    public boolean unschedule() {
        try {
            runtime.client().newUntypedWorkflowStub(RetentionWorkflow.SCHEDULED_ID).terminate("retention schedule replaced or removed");
            return true;
        } catch (WorkflowNotFoundException e) {
            return false;
        } catch (io.temporal.client.WorkflowException e) {
            return false;
        }
    }

    private static TrellisException failure(String id, WorkflowFailedException e) {
        Throwable cause = e.getCause();
        while (cause != null && !(cause instanceof io.temporal.failure.ApplicationFailure)) {
            cause = cause.getCause();
        }
        String message = cause instanceof io.temporal.failure.ApplicationFailure af ? af.getOriginalMessage() : e.getMessage();
        return new TrellisException(ErrorCode.INVALID_STATE, "retention run " + id + " failed: " + message);
    }

    /** The report as the CLI prints it. */
    public static void print(RetentionReport r, PrintStream out) {
        boolean dry = r.mode() == RetentionMode.DRY_RUN;
        out.println("══ Retention " + r.retentionRun() + (dry ? " — DRY RUN (nothing deleted)" : " — DELETED"));
        out.println("Compliance period: " + r.complianceDays() + " days (everything created after " + r.complianceCutoff() + " is kept)");
        out.println(dry ? "Would delete:" : "Deleted:");
        if (r.removed().isEmpty()) {
            out.println("  (nothing)");
        }
        for (RetentionItem i : r.removed()) {
            out.printf("  %-15s %-60s %,14d B  %s%n", i.kind(), i.subject(), i.bytes(), i.note() == null ? "" : i.note());
        }
        out.println("Kept (pinned):");
        for (RetentionItem i : r.kept()) {
            out.printf("  %-15s %-60s %s%n", i.kind(), i.subject(), String.join("; ", i.pins()));
        }
        for (String w : r.warnings()) {
            out.println("WARNING " + w);
        }
        out.printf("%s %,d bytes%n", dry ? "Would reclaim" : "Reclaimed", r.bytesReclaimed());
    }
}
