package io.trellis.spark.sample;

/**
 * What {@link SampleDataJob} generates: {@code rows} in total, split evenly over {@code days} daily
 * batches; from batch {@code driftFromDay} on (−1: never) several feature distributions shift by
 * {@code driftStrength} (1.0 is a clearly visible shift).
 */
public record SampleDataOptions(String tablePath, long rows, int days, long seed, int driftFromDay, double driftStrength) {
    public static final long DEFAULT_ROWS = 20_000;
    public static final int DEFAULT_DAYS = 10;
    public static final long DEFAULT_SEED = 7;
    public static final int NO_DRIFT = -1;

    public SampleDataOptions {
        if (rows < 1) {
            throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        }
        if (days < 1 || days > rows) {
            throw new IllegalArgumentException("days must be between 1 and rows (" + rows + "), got " + days);
        }
        if (driftFromDay < NO_DRIFT) {
            throw new IllegalArgumentException("driftFromDay must be -1 (no drift) or a day index, got " + driftFromDay);
        }
        if (driftStrength < 0 || driftStrength > 5) {
            throw new IllegalArgumentException("driftStrength must be between 0 and 5, got " + driftStrength);
        }
    }

    public static SampleDataOptions defaults(String tablePath) {
        return new SampleDataOptions(tablePath, DEFAULT_ROWS, DEFAULT_DAYS, DEFAULT_SEED, NO_DRIFT, 1.0);
    }

    public SampleDataOptions withRows(long n) {
        return new SampleDataOptions(tablePath, n, days, seed, driftFromDay, driftStrength);
    }

    public SampleDataOptions withDays(int n) {
        return new SampleDataOptions(tablePath, rows, n, seed, driftFromDay, driftStrength);
    }

    public SampleDataOptions withSeed(long s) {
        return new SampleDataOptions(tablePath, rows, days, s, driftFromDay, driftStrength);
    }

    public SampleDataOptions withDrift(int fromDay, double strength) {
        return new SampleDataOptions(tablePath, rows, days, seed, fromDay, strength);
    }

    /** First row id (inclusive) of a batch; batches split the ids evenly. */
    long batchStart(int day) {
        return rows * day / days;
    }

    boolean drifted(int day) {
        return driftFromDay >= 0 && day >= driftFromDay;
    }
}
