package io.trellis.workers;

import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.DeploymentRecord;
import io.trellis.metadata.Registry;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.PromotionProgress;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionResult;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.promotion.PromotionWorkflow;
import io.trellis.workflows.promotion.StageReport;
import io.trellis.workflows.retrain.GateResult;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Starts promotions, follows them to their approval gate or end, sends decisions, prints environments. */
public final class PromotionRunner {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    /** Where a followed promotion stopped: finished (result set) or waiting for a decision. */
    public record Outcome(String promotionKey, PromotionStatus status, PromotionResult result, String failureType, String message) {}

    private final TrellisRuntime runtime;
    private final PrintStream out;
    /** Stage reports already printed, per promotion, so following a promotion again prints only what is new. */
    private final Map<String, Integer> printedStages = new java.util.HashMap<>();

    public PromotionRunner(TrellisRuntime runtime, PrintStream out) {
        this.runtime = runtime;
        this.out = out;
    }

    public PromotionWorkflow start(PromotionRequest request) {
        String id = PromotionWorkflow.workflowId(request.modelName(), request.version(), request.targetEnvironment(),
                RunLabels.now());
        PromotionWorkflow wf = runtime.client().newWorkflowStub(PromotionWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(id)
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
                .setMemo(Map.of("model", request.modelName(), "version", request.version(), "target", request.targetEnvironment()))
                .build());
        WorkflowClient.start(wf::run, request);
        out.println("Started " + id + " (promotion of " + request.modelName() + " v" + request.version() + " to "
                + request.targetEnvironment() + ")");
        return wf;
    }

    public PromotionWorkflow attach(String promotionKey) {
        return runtime.client().newWorkflowStub(PromotionWorkflow.class, promotionKey);
    }

    /** Follows the promotion until it ends or waits for a decision, printing each stage as it is reported. */
    public Outcome follow(PromotionWorkflow wf, Duration limit) {
        WorkflowStub stub = WorkflowStub.fromTyped(wf);
        String key = stub.getExecution().getWorkflowId();
        String lastDetail = "";
        Instant deadline = Instant.now().plus(limit);
        while (Instant.now().isBefore(deadline)) {
            try {
                PromotionResult result = stub.getResult(1, java.util.concurrent.TimeUnit.SECONDS, PromotionResult.class);
                printNewStages(key, result.stages());
                out.println("══ Promotion " + key + " — " + result.status());
                out.println(result.message());
                return new Outcome(key, result.status(), result, null, result.message());
            } catch (java.util.concurrent.TimeoutException stillRunning) {
                PromotionProgress p = wf.progress();
                printNewStages(key, p.stages());
                if (p.detail() != null && !p.detail().equals(lastDetail)) {
                    out.println("  " + p.detail());
                    lastDetail = p.detail();
                }
                if (p.status() == PromotionStatus.AWAITING_APPROVAL) {
                    return new Outcome(key, p.status(), null, null, p.detail());
                }
            } catch (WorkflowFailedException e) {
                String type = e.getCause() instanceof ApplicationFailure af ? af.getType() : null;
                String message = e.getCause() instanceof ApplicationFailure af ? af.getOriginalMessage() : e.getMessage();
                out.println("══ Promotion " + key + " — FAILED" + (type == null ? "" : " (" + type + ")"));
                out.println(message);
                return new Outcome(key, PromotionStatus.FAILED, null, type, message);
            }
        }
        throw new IllegalStateException("promotion " + key + " still running after " + limit);
    }

    /** Sends a decision to a promotion waiting for one; the registry refuses (and audits) what is not allowed. */
    public void decide(String promotionKey, ApprovalDecision decision) {
        attach(promotionKey).decide(decision);
        out.println(decision.verdict() + " of " + promotionKey + " recorded for " + decision.approver());
    }

    private void printNewStages(String key, List<StageReport> stages) {
        int done = printedStages.getOrDefault(key, 0);
        for (StageReport s : stages.subList(Math.min(done, stages.size()), stages.size())) {
            printStage(s);
        }
        printedStages.put(key, Math.max(done, stages.size()));
    }

    private void printStage(StageReport s) {
        out.printf(Locale.ROOT, "  stage %-11s %s%n", s.environment(), s.passed() ? "gates passed" : "GATES FAILED");
        for (GateResult g : s.gates()) {
            out.printf(Locale.ROOT, "    %s %-18s %s%n", g.passed() ? "PASS" : "FAIL", g.gate(), g.detail());
        }
        if (s.shadow() != null) {
            var sh = s.shadow();
            out.printf(Locale.ROOT, "    shadow: %,d rows scored into %s @ v%d; candidate %d ms%s%n", sh.rows(),
                    sh.predictions().tablePath(), sh.predictions().version(), sh.candidateMillis(),
                    sh.productionVersion() == null ? " (no production model to compare with)"
                            : String.format(Locale.ROOT, ", production v%d %d ms; agreement %.1f%%, score PSI %.4f, mean |Δscore| %.4f",
                                    sh.productionVersion(), sh.productionMillis(), sh.agreementRate() * 100, sh.scorePsi(),
                                    sh.meanAbsScoreDiff()));
        }
    }

    /** Each environment: what is live now and the pointer history, oldest first. */
    public static void printEnvironments(Registry registry, String modelName, PrintStream out) {
        out.println();
        out.println("Environments of " + modelName);
        List<DeploymentRecord> all = registry.deployments(modelName);
        for (String env : registry.environments(modelName)) {
            List<DeploymentRecord> rows = all.stream().filter(d -> d.environment().equals(env)).toList();
            String now = rows.stream().filter(DeploymentRecord::isOpen)
                    .map(d -> d.role().name().toLowerCase(Locale.ROOT) + " v" + d.version())
                    .reduce((a, b) -> a + ", " + b).orElse("nothing");
            out.printf(Locale.ROOT, "  %-11s %s%n", env, now);
            for (DeploymentRecord d : rows) {
                out.printf(Locale.ROOT, "      v%-3d %-9s %s → %s  by %s%s%n", d.version(), d.role().name().toLowerCase(Locale.ROOT),
                        TIME.format(d.validFrom()), d.validTo() == null ? "now" : TIME.format(d.validTo()), d.deployedBy(),
                        d.reason() == null ? "" : " (" + d.reason() + ")");
            }
        }
    }
}
