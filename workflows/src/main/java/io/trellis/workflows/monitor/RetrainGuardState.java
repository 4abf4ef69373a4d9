package io.trellis.workflows.monitor;

/** A retrain of the model that is running, and a retrain monitoring started within the cooldown; null when none. */
public record RetrainGuardState(String runningRetrain, String recentMonitorRetrain) {}
