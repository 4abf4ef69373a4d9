package io.trellis.activities.spark;

import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageStore;

/** Records usage in PostgreSQL and prices it with the configured price sheet (for hard limits). */
public final class PricedUsageSink implements UsageSink {
    private final ResourceUsageStore store;
    private final PriceSheet prices;

    public PricedUsageSink(ResourceUsageStore store, PriceSheet prices) {
        this.store = store;
        this.prices = prices;
    }

    @Override
    public void record(ResourceUsageRecord usage) {
        store.record(usage);
    }

    @Override
    public double recordedCost(String workflowId) {
        return prices.cost(store.run(workflowId));
    }

    @Override
    public double cost(ResourceUsageRecord usage) {
        return prices.cost(usage);
    }
}
