package io.trellis.workers.cli;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringRunResult;
import io.trellis.workflows.promotion.ScoringWorkflow;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Batch-score the latest window with the version live in an environment, into its predictions table.")
final class ScoreCommand implements Callable<Integer> {
    private static final DateTimeFormatter LABEL = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "ENVIRONMENT")
    String environment;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            String id = ScoringWorkflow.workflowId(model, environment, LABEL.format(java.time.Instant.now()));
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
