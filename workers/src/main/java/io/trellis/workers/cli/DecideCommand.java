package io.trellis.workers.cli;

import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.Decision;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.Verdict;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Shared by approve and reject: the decision goes to the waiting workflow, whose registry call audits it. */
abstract class DecideCommand {
    @Parameters(paramLabel = "PROMOTION", description = "The promotion's workflow ID (printed by `trellis promote`).")
    String promotionKey;

    @Option(names = "--as", description = "The approver (must hold the approver role; not the retrain's triggerer).")
    String actor = TrellisCli.defaultActor();

    int decide(TrellisCli root, Verdict verdict, String reason) {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            try {
                new PromotionRunner(runtime, System.out).decide(promotionKey, new ApprovalDecision(actor, verdict, reason));
                return TrellisCli.EXIT_OK;
            } catch (WorkflowUpdateException e) {
                String deepest = null;
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof ApplicationFailure af) {
                        deepest = af.getType() + ": " + af.getOriginalMessage();
                    }
                }
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "decision refused: " + (deepest == null ? e.getMessage() : deepest));
            } catch (WorkflowNotFoundException e) {
                // No workflow is waiting (finished, expired, or never existed): the registry refuses and audits.
                runtime.registry().decide(promotionKey, actor, verdict == Verdict.APPROVE ? Decision.APPROVED : Decision.REJECTED, reason);
                throw new TrellisException(ErrorCode.INVALID_STATE, "promotion " + promotionKey + " is not awaiting approval");
            }
        }
    }
}
