package io.trellis.metadata;

import java.util.Locale;

/**
 * Prices that turn resource usage into an estimated cost (from configuration). Storage is priced for one month of
 * what a step wrote; memory is execution memory held by tasks (see {@code resource_usage.memory_byte_ms}).
 *
 * @param currency       a label only (USD, EUR...)
 * @param perCoreHour    per core-hour of executor run time
 * @param perGbHour      per GiB-hour of execution memory
 * @param perGbMonth     per GiB stored for a month (applied to the bytes a step wrote)
 * @param perGbScanned   per GiB read from storage
 */
public record PriceSheet(String currency, double perCoreHour, double perGbHour, double perGbMonth, double perGbScanned) {
    /** Defaults in the range of public cloud list prices (compute per vCPU-hour and GiB-hour, object storage, scans). */
    public static final PriceSheet DEFAULT = new PriceSheet("USD", 0.05, 0.005, 0.023, 0.005);

    public PriceSheet {
        if (currency == null || currency.isBlank()) {
            throw new IllegalArgumentException("currency must not be blank");
        }
        for (double p : new double[] {perCoreHour, perGbHour, perGbMonth, perGbScanned}) {
            if (!(p >= 0) || Double.isInfinite(p)) {
                throw new IllegalArgumentException("prices must be finite and 0 or more");
            }
        }
    }

    public double cost(double coreHours, double memoryGbHours, double gbRead, double gbWritten) {
        return coreHours * perCoreHour + memoryGbHours * perGbHour + gbRead * perGbScanned + gbWritten * perGbMonth;
    }

    public double cost(UsageTotals t) {
        return cost(t.coreHours(), t.memoryGbHours(), t.gbRead(), t.gbWritten());
    }

    public double cost(ResourceUsageRecord r) {
        return cost(r.executorRunMs() / 3_600_000.0, r.memoryByteMs() / 1073741824.0 / 3_600_000.0, r.bytesRead() / 1073741824.0,
                r.bytesWritten() / 1073741824.0);
    }

    public String format(double amount) {
        return String.format(Locale.ROOT, "%.6f %s", amount, currency);
    }
}
