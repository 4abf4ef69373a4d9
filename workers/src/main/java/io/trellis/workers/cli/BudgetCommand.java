package io.trellis.workers.cli;

import io.trellis.workers.BudgetDecisions;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.ApprovalReceipt;
import io.trellis.workflows.promotion.Verdict;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "budget", mixinStandardHelpOptions = true, description = "Decide a retrain waiting at its budget gate.",
        subcommands = {BudgetCommand.Approve.class, BudgetCommand.Reject.class})
final class BudgetCommand {
    @ParentCommand
    TrellisCli root;

    static int decide(BudgetCommand parent, String runKey, String actor, Verdict verdict, String reason) {
        try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
            ApprovalReceipt receipt = new BudgetDecisions(runtime).decide(runKey, new ApprovalDecision(actor, verdict, reason));
            System.out.println(receipt.verdict() + " of the budget of " + runKey + " recorded for " + receipt.approver());
            return TrellisCli.EXIT_OK;
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, description = "Let the run go on past its budget (approver; not its trigger).")
    static final class Approve implements Callable<Integer> {
        @ParentCommand
        BudgetCommand parent;

        @Parameters(paramLabel = "RUN", description = "The run key (retrain/<model>/<label>).")
        String runKey;

        @Option(names = "--reason", description = "Optional note (audited).")
        String reason;

        @Option(names = "--as", description = "The approver (must hold the approver role; not the run's trigger).")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            return decide(parent, runKey, actor, Verdict.APPROVE, reason);
        }
    }

    @Command(name = "reject", mixinStandardHelpOptions = true, description = "Stop the run at its budget gate (it fails BUDGET_EXCEEDED).")
    static final class Reject implements Callable<Integer> {
        @ParentCommand
        BudgetCommand parent;

        @Parameters(paramLabel = "RUN", description = "The run key (retrain/<model>/<label>).")
        String runKey;

        @Option(names = "--reason", required = true, description = "Why (audited; the trigger sees it).")
        String reason;

        @Option(names = "--as", description = "The approver (must hold the approver role; not the run's trigger).")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            return decide(parent, runKey, actor, Verdict.REJECT, reason);
        }
    }
}
