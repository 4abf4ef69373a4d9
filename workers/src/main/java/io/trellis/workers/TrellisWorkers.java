package io.trellis.workers;

import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.activities.RegistryActivities;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.budget.BudgetActivities;
import io.trellis.workflows.promotion.PromotionActivities;
import io.trellis.workflows.monitor.DriftActivities;
import io.trellis.workflows.monitor.MonitorActivities;
import io.trellis.workflows.monitor.MonitorWorkflowImpl;
import io.trellis.workflows.promotion.PromotionWorkflowImpl;
import io.trellis.workflows.promotion.ScoringActivities;
import io.trellis.workflows.promotion.RollbackWorkflowImpl;
import io.trellis.workflows.promotion.ScoringWorkflowImpl;
import io.trellis.workflows.retrain.RetrainWorkflowImpl;
import java.time.Duration;
import io.trellis.workflows.schedule.SchedulerWorkflowImpl;
import io.trellis.workflows.retention.RetentionActivities;
import io.trellis.workflows.retention.RetentionWorkflowImpl;

/**
 * The worker topology: workflows and light activities (PostgreSQL, artifact checks) on
 * {@link TaskQueues#ORCHESTRATION}; Spark steps on {@link TaskQueues#SPARK}, capped at {@code sparkConcurrency}
 * at once per worker process so heavy jobs queue instead of starving the shared Spark session.
 */
public final class TrellisWorkers {
    private TrellisWorkers() {}

    /** The activity implementations one worker process serves. */
    public record Activities(RegistryActivities registry, PromotionActivities promotion, SparkActivities spark,
                             ScoringActivities scoring, MonitorActivities monitor, DriftActivities drift, BudgetActivities budget,
                             RetentionActivities retention) {
        /** Without retention (a retention workflow then fails to schedule its step). */
        public Activities(RegistryActivities registry, PromotionActivities promotion, SparkActivities spark,
                          ScoringActivities scoring, MonitorActivities monitor, DriftActivities drift, BudgetActivities budget) {
            this(registry, promotion, spark, scoring, monitor, drift, budget, null);
        }

        /** Without budget checks (a retrain of a model with a budget then fails to schedule its check). */
        public Activities(RegistryActivities registry, PromotionActivities promotion, SparkActivities spark,
                          ScoringActivities scoring, MonitorActivities monitor, DriftActivities drift) {
            this(registry, promotion, spark, scoring, monitor, drift, null, null);
        }
    }

    /**
     * Registers both workers. {@code stickyTimeout} is how long a run's next workflow task waits for the worker
     * that has the run cached; zero turns sticky execution off (every task goes to the shared queue).
     */
    public static void register(WorkerFactory factory, Activities activities, int sparkConcurrency, Duration stickyTimeout) {
        register(factory, activities, sparkConcurrency, stickyTimeout, WorkerTuning.SDK_DEFAULTS);
    }

    /** As above, with the pollers and the orchestration queue's concurrency from {@code tuning}. */
    public static void register(WorkerFactory factory, Activities activities, int sparkConcurrency, Duration stickyTimeout,
                                WorkerTuning tuning) {
        register(factory, activities, sparkConcurrency, stickyTimeout, tuning, WorkerQueues.ALL, null);
    }

    /**
     * As above, registering only the workers of {@code queues} (the activities of the other queue may then be null) under
     * {@code identity} (null: the client's, {@code pid@host}), which the workflow history records for every task taken.
     */
    public static void register(WorkerFactory factory, Activities activities, int sparkConcurrency, Duration stickyTimeout,
                                WorkerTuning tuning, WorkerQueues queues, String identity) {
        if (queues.pollsOrchestration()) {
            registerOrchestration(factory, activities, stickyTimeout, tuning, identity);
        }
        if (queues.pollsSpark()) {
            registerSpark(factory, activities, sparkConcurrency, tuning, identity);
        }
    }

    private static void registerOrchestration(WorkerFactory factory, Activities activities, Duration stickyTimeout, WorkerTuning tuning,
                                              String identity) {
        Worker orchestration = factory.newWorker(TaskQueues.ORCHESTRATION, WorkerOptions.newBuilder()
                .setStickyQueueScheduleToStartTimeout(stickyTimeout) // the SDK sends no sticky attributes for zero
                .setMaxConcurrentWorkflowTaskPollers(tuning.pollers())
                .setMaxConcurrentActivityTaskPollers(tuning.pollers())
                // A draining worker lets running steps finish; they heartbeat all along, and by default the SDK
                // fails a heartbeat once shutdown has begun (ActivityWorkerShutdownException), killing the step.
                .setAllowActivityHeartbeatDuringShutdown(true)
                .setMaxConcurrentWorkflowTaskExecutionSize(tuning.orchestrationConcurrency())
                .setMaxConcurrentActivityExecutionSize(tuning.orchestrationConcurrency())
                .setAllowActivityHeartbeatDuringShutdown(true) // see the Spark worker below
                .setIdentity(identity)
                .build());
        orchestration.registerWorkflowImplementationTypes(RetrainWorkflowImpl.class, PromotionWorkflowImpl.class,
                ScoringWorkflowImpl.class, RollbackWorkflowImpl.class, MonitorWorkflowImpl.class, SchedulerWorkflowImpl.class);
        orchestration.registerWorkflowImplementationTypes(RetentionWorkflowImpl.class);
        orchestration.registerActivitiesImplementations(activities.registry(), activities.promotion(), activities.monitor());
        if (activities.budget() != null) {
            orchestration.registerActivitiesImplementations(activities.budget());
        }
    }

    private static void registerSpark(WorkerFactory factory, Activities activities, int sparkConcurrency, WorkerTuning tuning,
                                      String identity) {
        Worker heavy = factory.newWorker(TaskQueues.SPARK, WorkerOptions.newBuilder()
                .setMaxConcurrentActivityExecutionSize(sparkConcurrency)
                .setMaxConcurrentActivityTaskPollers(tuning.pollers())
                // A draining worker lets running steps finish; they heartbeat all along, and by default the SDK
                // fails a heartbeat once shutdown has begun (ActivityWorkerShutdownException), killing the step.
                .setAllowActivityHeartbeatDuringShutdown(true)
                .setIdentity(identity)
                .build());
        heavy.registerActivitiesImplementations(activities.spark(), activities.scoring(), activities.drift());
        if (activities.retention() != null) {
            heavy.registerActivitiesImplementations(activities.retention());
        }
    }
}
