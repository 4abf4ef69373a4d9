package io.trellis.workers.cli;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.RunLabels;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringRunResult;
import io.trellis.workflows.promotion.ScoringWorkflow;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Batch-score the latest window with the version live in an environment, into its predictions table.")
final class ScoreCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "ENVIRONMENT")
    String environment;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Option(names = "--cron", description = {"Instead of one run now, schedule scoring with this cron expression (UTC),",
            "e.g. '0 2 * * *': a Temporal cron workflow, one run per tick, each with the version live at that tick."})
    String cron;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            if (cron != null) {
                String id = ScoringWorkflow.scheduleId(model, environment);
                ScoringWorkflow wf = runtime.client().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                        .setTaskQueue(TaskQueues.ORCHESTRATION)
                        .setWorkflowId(id)
                        .setCronSchedule(cron)
                        .setMemo(Map.of("model", model, "environment", environment, "cron", cron))
                        .build());
                try {
                    WorkflowClient.start(wf::run, new ScoringRequest(model, environment, actor));
                } catch (io.temporal.client.WorkflowExecutionAlreadyStarted e) {
                    throw new TrellisException(ErrorCode.INVALID_STATE, "scoring of " + model + " in " + environment
                            + " is already scheduled (" + id + "); terminate it in the Temporal UI or with tctl to change it");
                } catch (IllegalArgumentException | io.grpc.StatusRuntimeException e) {
                    throw new TrellisException(ErrorCode.INVALID_REQUEST, "bad cron expression '" + cron + "': " + e.getMessage());
                }
                System.out.println("Scheduled " + id + " (cron '" + cron + "', UTC)");
                if (runtime.embeddedTemporal()) {
                    System.out.println("(embedded mode: the schedule lives as long as this process; use a Temporal cluster for"
                            + " lasting schedules)");
                }
                return TrellisCli.EXIT_OK;
            }
            String id = ScoringWorkflow.workflowId(model, environment, RunLabels.now());
            ScoringWorkflow wf = runtime.client().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION)
                    .setWorkflowId(id)
                    .setMemo(Map.of("model", model, "environment", environment))
                    .build());
            System.out.println("Started " + id);
            try {
                ScoringRunResult r = wf.run(new ScoringRequest(model, environment, actor));
                System.out.printf("%s v%d scored %,d rows (window %s .. %s of %s @ v%d) into %s @ Delta version %d%n", model, r.version(),
                        r.scoring().rows(), r.scoring().windowFrom(), r.scoring().windowTo(), r.scoring().sourceTable(),
                        r.scoring().sourceVersion(), r.scoring().predictions().tablePath(), r.scoring().predictions().version());
                return TrellisCli.EXIT_OK;
            } catch (WorkflowFailedException e) {
                throw TrellisCli.asTrellisException(e);
            }
        }
    }
}
