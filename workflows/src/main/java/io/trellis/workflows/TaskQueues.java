package io.trellis.workflows;

/**
 * Task queues, named once. Heavy Spark steps run on their own queue so a worker can cap how many run
 * at once while light steps (Postgres, gates) never wait behind them.
 */
public final class TaskQueues {
    /** Workflows and light activities (metadata store, gates). */
    public static final String ORCHESTRATION = "trellis-orchestration";
    /** Activities that run Spark jobs. */
    public static final String SPARK = "trellis-spark";

    private TaskQueues() {}
}
