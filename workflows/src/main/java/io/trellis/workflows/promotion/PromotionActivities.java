package io.trellis.workflows.promotion;

import io.temporal.activity.ActivityInterface;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;

/**
 * The registry as a promotion uses it (PostgreSQL). Every method is idempotent per promotion key, audits
 * what it decides, and leaves the state unchanged when it refuses.
 */
@ActivityInterface(namePrefix = "Promotion")
public interface PromotionActivities {

    /**
     * Opens the promotion. Unknown model or version, a version that failed its gates, a target it is already
     * live in, or another active promotion of the model to that environment: a non-retryable failure.
     */
    PromotionContext begin(String promotionKey, PromotionRequest request);

    /** The version live in an environment, or null. */
    ChampionRef liveVersion(String modelName, String environment);

    ArtifactCheck verifyArtifact(ArtifactRef artifact);

    void recordStage(String promotionKey, StageReport report);

    void awaitApproval(String promotionKey);

    /** Checks the approver's role, four-eyes and the promotion's state; records the decision. */
    void recordDecision(String promotionKey, ApprovalDecision decision);

    /** Makes the version live in the environment (the pointer moves, with history). */
    void deploy(String promotionKey, String environment, String actor);

    void finish(String promotionKey, PromotionStatus status, String message, String actor);

    /** Restores the previous (or the named) live version; no earlier version: INVALID_STATE. Audited, history kept. */
    RollbackResult rollback(RollbackRequest request);

    /** The spec and the version live in the environment, for a batch-scoring run; nothing live: INVALID_STATE. */
    ScoringTarget scoringTarget(String modelName, String environment);

    /** Records the predictions table version a scoring run wrote (a dataset version) and audits the run. */
    void recordScoring(String runKey, String modelName, String environment, int version, BatchScoreResult result, String actor);
}
