package io.trellis.spark.testing;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.sample.SampleDataJob;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.SampleModels;

/**
 * One small customer-churn table (4,000 rows in 4 daily batches, seed 11) generated once per test JVM,
 * for tests that need realistic sample data but not a table of their own. Treat it as read-only.
 */
public final class TestingSampleData {
    public static final long ROWS = 4_000;
    public static final int DAYS = 4;
    public static final long SEED = 11;
    private static volatile DatasetVersion churn;

    private TestingSampleData() {}

    public static synchronized DatasetVersion churnTable() {
        if (churn == null) {
            String path = TestingSpark.newLake().resolve(SampleModels.CUSTOMER_CHURN_TABLE).toString();
            SampleDataJob.run(TestingSpark.session(),
                    SampleDataOptions.defaults(path).withRows(ROWS).withDays(DAYS).withSeed(SEED));
            churn = new DatasetVersion(path, DeltaTables.latestVersion(TestingSpark.session(), path));
        }
        return churn;
    }
}
