package io.trellis.workflows.budget;

/**
 * The estimate of a run's cost and whether it fits the budget. {@code estimatedCost} is null when the model has no
 * recent run with recorded usage to estimate from (the run then passes: there is nothing to compare).
 */
public record BudgetVerdict(Double estimatedCost, double monthSpent, String currency, boolean withinBudget, String message) {}
