package io.trellis.workers.cli;

import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.RollbackRequest;
import io.trellis.workflows.promotion.RollbackResult;
import io.trellis.workflows.promotion.RollbackWorkflow;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.RunLabels;
import io.trellis.workers.TrellisRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = "Restore the previous live version of an environment (or --to-version N). History is kept.")
final class RollbackCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "ENVIRONMENT")
    String environment;

    @Option(names = "--to-version", description = "A version that was live in this environment before (default: the previous one).")
    Integer toVersion;

    @Option(names = "--reason", required = true, description = "Why (required; recorded in the audit trail).")
    String reason;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            String id = RollbackWorkflow.workflowId(model, environment, RunLabels.now());
            RollbackWorkflow wf = runtime.client().newWorkflowStub(RollbackWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(id).build());
            RollbackResult result;
            try {
                result = wf.run(new RollbackRequest(model, environment, toVersion, actor, reason));
            } catch (WorkflowFailedException e) {
                throw TrellisCli.asTrellisException(e);
            }
            System.out.println(model + " " + environment + " rolled back (" + id + "): v" + result.restoredVersion()
                    + " is live again" + (result.replacedVersion() == null ? "" : ", replacing v" + result.replacedVersion()));
            PromotionRunner.printEnvironments(runtime.registry(), model, System.out);
            return TrellisCli.EXIT_OK;
        }
    }
}
