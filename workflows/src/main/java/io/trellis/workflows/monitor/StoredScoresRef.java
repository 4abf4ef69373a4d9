package io.trellis.workflows.monitor;

/**
 * The latest batch scoring run of the live version that the registry recorded: the run key its predictions commit
 * carries, the predictions table and the Delta version it wrote, the source table version it scored, and when it was
 * recorded (ISO-8601). Monitoring reads those stored scores instead of looking the run up in the predictions table.
 */
public record StoredScoresRef(String runKey, String predictionsTable, long predictionsVersion, String sourceTable, long sourceVersion,
                              String recordedAt) {}
