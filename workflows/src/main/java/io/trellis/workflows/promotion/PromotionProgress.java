package io.trellis.workflows.promotion;

import java.util.List;

/** The answer to the {@code progress} query: the stage it is in, its status and every stage report so far. */
public record PromotionProgress(String promotionKey, String modelName, int version, String targetEnvironment, String stage,
                                PromotionStatus status, List<StageReport> stages, String decidedBy, String detail) {}
