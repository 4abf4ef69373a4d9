package io.trellis.activities.artifacts;

import io.trellis.workflows.activities.ArtifactRef;
import java.nio.file.Path;

/**
 * Where model artifacts (saved Spark {@code PipelineModel} directories) live. The local file store is the
 * embedded default; an S3 store (AWS SDK v2) implements the same contract for production.
 * Keys are relative paths such as {@code customer-churn/runs/20261126-012345}.
 */
public interface ArtifactStore {

    /**
     * Stores the directory under the key and returns its reference with a SHA-256 over the directory's
     * files. Storing the same key again replaces it (a retried training attempt), atomically.
     */
    ArtifactRef put(String key, Path localDirectory);

    /**
     * Returns a local path Spark can load the artifact from, after checking its checksum.
     * A mismatch is {@code ARTIFACT_CHECKSUM_MISMATCH}: the artifact was changed or damaged after it was stored.
     */
    Path fetch(ArtifactRef ref);

    /**
     * Deletes the stored artifact (retention) and returns the bytes it held; 0 when it is gone already, so a retried
     * deletion is harmless. The reference's checksum is not checked: what is deleted is whatever the key holds.
     */
    long delete(ArtifactRef ref);
}
