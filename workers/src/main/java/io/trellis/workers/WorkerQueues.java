package io.trellis.workers;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.TaskQueues;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which task queues one worker process polls ({@code trellis.worker.queues}): both (the default, one kind of worker
 * for everything), or one, so that the workflows and light steps and the Spark steps scale as separate deployments.
 * A process that does not poll {@link TaskQueues#SPARK} never starts a Spark session.
 */
public enum WorkerQueues {
    /** Workflows, light activities and Spark steps. */
    ALL("orchestration,spark", List.of(TaskQueues.ORCHESTRATION, TaskQueues.SPARK)),
    /** Workflows and light activities (PostgreSQL, artifact checks, gates) only: no Spark session. */
    ORCHESTRATION("orchestration", List.of(TaskQueues.ORCHESTRATION)),
    /** Spark steps (retrain steps, scoring, drift, retention) only. */
    SPARK("spark", List.of(TaskQueues.SPARK));

    public static final String SETTING = "trellis.worker.queues";

    private final String setting;
    private final List<String> taskQueues;

    WorkerQueues(String setting, List<String> taskQueues) {
        this.setting = setting;
        this.taskQueues = taskQueues;
    }

    /** The value as it is written in the setting. */
    public String setting() {
        return setting;
    }

    /** The Temporal task queues polled. */
    public List<String> taskQueues() {
        return taskQueues;
    }

    public boolean pollsOrchestration() {
        return taskQueues.contains(TaskQueues.ORCHESTRATION);
    }

    public boolean pollsSpark() {
        return taskQueues.contains(TaskQueues.SPARK);
    }

    /** Parses {@code orchestration,spark} (either order), {@code orchestration} or {@code spark}; case and blanks ignored. */
    public static WorkerQueues parse(String value) {
        Set<String> names = new LinkedHashSet<>();
        boolean wellFormed = true;
        for (String part : value.split(",", -1)) {
            String name = part.trim().toLowerCase(Locale.ROOT);
            wellFormed &= (name.equals("orchestration") || name.equals("spark")) && names.add(name);
        }
        if (wellFormed && names.size() == 2) {
            return ALL;
        }
        if (wellFormed && names.size() == 1) {
            return names.contains("spark") ? SPARK : ORCHESTRATION;
        }
        throw new TrellisException(ErrorCode.INVALID_REQUEST, SETTING + " (" + TrellisConfig.envName(SETTING) + ") must be one of"
                + " 'orchestration,spark' (both task queues), 'orchestration' (workflows and light steps) or 'spark' (Spark steps), got '"
                + value + "'");
    }
}
