package io.trellis.metadata;

/** Whether a trained model version passed its gates ({@link #REGISTERED}) or is kept only for the record. */
public enum ModelVersionStatus {
    REGISTERED,
    REJECTED
}
