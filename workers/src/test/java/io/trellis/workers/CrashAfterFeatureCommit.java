package io.trellis.workers;

import io.temporal.activity.Activity;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real Spark activities, except that the first attempt of each run's feature step dies right after its
 * Delta commit, the way a worker killed at that instant would look to Temporal: the commit happened, the
 * activity did not complete, so Temporal retries it.
 */
final class CrashAfterFeatureCommit implements SparkActivities {
    private final SparkActivities real;
    private final Set<String> crashed = ConcurrentHashMap.newKeySet();
    final AtomicInteger featureAttempts = new AtomicInteger();

    CrashAfterFeatureCommit(SparkActivities real) {
        this.real = real;
    }

    @Override
    public SnapshotResult snapshotAndValidate(SnapshotRequest request) {
        return real.snapshotAndValidate(request);
    }

    @Override
    public FeatureResult buildFeatures(FeatureRequest request) {
        featureAttempts.incrementAndGet();
        FeatureResult result = real.buildFeatures(request);
        if (Activity.getExecutionContext().getInfo().getAttempt() == 1 && crashed.add(request.runKey())) {
            throw new IllegalStateException("simulated worker crash after the feature table commit");
        }
        return result;
    }

    @Override
    public TrainResult train(TrainRequest request) {
        return real.train(request);
    }

    @Override
    public EvaluationResult evaluate(EvaluateRequest request) {
        return real.evaluate(request);
    }
}
