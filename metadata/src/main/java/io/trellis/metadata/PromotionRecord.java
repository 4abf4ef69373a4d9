package io.trellis.metadata;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A promotion of {@code modelName} v{@code version} towards {@code targetEnvironment}.
 *
 * @param promotionKey the Temporal workflow id, e.g. {@code promote/customer-churn/v3/production}
 * @param stages       one report per environment passed so far, in the order recorded; each has an
 *                     {@code environment} entry (and gates, shadow comparison... as the workflow wrote them)
 * @param decision     null until an approver decided; {@code decidedBy}, {@code decisionReason} and
 *                     {@code decidedAt} with it
 * @param message      the note given when the promotion finished, or null
 * @param finishedAt   null while the promotion is active
 */
public record PromotionRecord(
        long id,
        String promotionKey,
        String modelName,
        int version,
        String targetEnvironment,
        PromotionStatus status,
        String requestedBy,
        String reason,
        List<Map<String, Object>> stages,
        String decidedBy,
        Decision decision,
        String decisionReason,
        Instant decidedAt,
        String message,
        Instant startedAt,
        Instant finishedAt) {

    /** The report recorded for {@code environment}, if that stage has one. */
    public Optional<Map<String, Object>> stage(String environment) {
        return stages.stream().filter(s -> environment.equals(s.get(PromotionRow.STAGE_ENVIRONMENT))).findFirst();
    }
}
