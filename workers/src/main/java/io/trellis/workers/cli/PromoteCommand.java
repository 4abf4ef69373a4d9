package io.trellis.workers.cli;

import io.trellis.workers.PromotionRunner;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionStatus;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "promote", mixinStandardHelpOptions = true,
        description = {"Promote a model version towards an environment: gates per stage, the shadow run, and, where the",
                "spec requires it, a wait for approval (send it with `trellis approve`). Returns once the promotion",
                "ends or waits for a decision; with a Temporal cluster the wait goes on durably there."})
final class PromoteCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "VERSION")
    int version;

    @Option(names = "--to", required = true, description = "Target environment, e.g. staging or production.")
    String target;

    @Option(names = "--reason", description = "Why (recorded in the audit trail).")
    String reason;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            PromotionRunner runner = new PromotionRunner(runtime, System.out);
            PromotionRunner.Outcome outcome = runner.follow(
                    runner.start(new PromotionRequest(model, version, target, actor, reason)), Duration.ofHours(12));
            if (outcome.status() == PromotionStatus.AWAITING_APPROVAL) {
                System.out.println("Awaiting approval: trellis approve " + outcome.promotionKey() + " --as <approver>");
                if (runtime.embeddedTemporal()) {
                    System.out.println("(embedded mode: the Temporal test server lives in this process, so the wait ends with it;"
                            + " use `trellis local` or a Temporal cluster for approvals)");
                }
                return TrellisCli.EXIT_OK;
            }
            PromotionRunner.printEnvironments(runtime.registry(), model, System.out);
            return outcome.status() == PromotionStatus.DEPLOYED ? TrellisCli.EXIT_OK
                    : outcome.failureType() != null ? TrellisCli.EXIT_BAD_INPUT : TrellisCli.EXIT_RUN_FAILED;
        }
    }
}
