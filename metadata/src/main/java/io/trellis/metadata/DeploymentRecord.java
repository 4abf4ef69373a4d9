package io.trellis.metadata;

import java.time.Instant;

/**
 * One pointer row: {@code version} of {@code modelName} was the {@code role} in {@code environment} from
 * {@code validFrom} until {@code validTo} (null while it still is).
 */
public record DeploymentRecord(
        long id,
        String modelName,
        String environment,
        int environmentOrdinal,
        int version,
        DeploymentRole role,
        Instant validFrom,
        Instant validTo,
        String deployedBy,
        String reason,
        String runKey) {

    public boolean isOpen() {
        return validTo == null;
    }
}
