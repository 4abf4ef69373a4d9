package io.trellis.metadata;

/** A dataset version that fed a training run, and how ({@code source}, {@code features}...). */
public record LineageInput(DatasetVersionRecord dataset, String relation) {
}
