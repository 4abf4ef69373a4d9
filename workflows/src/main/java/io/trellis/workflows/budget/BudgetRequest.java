package io.trellis.workflows.budget;

import io.trellis.spec.ModelSpec;

/** One run's budget check: the model's budget and the size of the snapshot it is about to train on. */
public record BudgetRequest(String runKey, String modelName, ModelSpec.Budget budget, long sourceRows, String triggeredBy) {}
