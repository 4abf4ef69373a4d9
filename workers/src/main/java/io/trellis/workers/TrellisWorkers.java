package io.trellis.workers;

import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.activities.RegistryActivities;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.promotion.PromotionActivities;
import io.trellis.workflows.promotion.PromotionWorkflowImpl;
import io.trellis.workflows.promotion.ScoringActivities;
import io.trellis.workflows.promotion.RollbackWorkflowImpl;
import io.trellis.workflows.promotion.ScoringWorkflowImpl;
import io.trellis.workflows.retrain.RetrainWorkflowImpl;
import io.trellis.workflows.schedule.SchedulerWorkflowImpl;

/**
 * The worker topology: workflows and light activities (PostgreSQL, artifact checks) on
 * {@link TaskQueues#ORCHESTRATION}; Spark steps on {@link TaskQueues#SPARK}, capped at {@code sparkConcurrency}
 * at once per worker process so heavy jobs queue instead of starving the shared Spark session.
 */
public final class TrellisWorkers {
    private TrellisWorkers() {}

    /** The activity implementations one worker process serves. */
    public record Activities(RegistryActivities registry, PromotionActivities promotion, SparkActivities spark,
                             ScoringActivities scoring) {}

    public static void register(WorkerFactory factory, Activities activities, int sparkConcurrency) {
        Worker orchestration = factory.newWorker(TaskQueues.ORCHESTRATION);
        orchestration.registerWorkflowImplementationTypes(RetrainWorkflowImpl.class, PromotionWorkflowImpl.class,
                ScoringWorkflowImpl.class, RollbackWorkflowImpl.class, SchedulerWorkflowImpl.class);
        orchestration.registerActivitiesImplementations(activities.registry(), activities.promotion());

        Worker heavy = factory.newWorker(TaskQueues.SPARK, WorkerOptions.newBuilder()
                .setMaxConcurrentActivityExecutionSize(sparkConcurrency)
                .build());
        heavy.registerActivitiesImplementations(activities.spark(), activities.scoring());
    }
}
