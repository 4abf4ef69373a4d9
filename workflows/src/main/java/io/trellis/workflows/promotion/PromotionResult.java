package io.trellis.workflows.promotion;

import java.util.List;

/** How a promotion ended; {@code liveIn} is the last environment the version went live in (null if none). */
public record PromotionResult(String promotionKey, String modelName, int version, String targetEnvironment,
                              PromotionStatus status, String liveIn, List<StageReport> stages, String decidedBy,
                              String message) {}
