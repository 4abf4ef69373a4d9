package io.trellis.spark.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.JobArguments;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.SampleModels;
import io.trellis.spec.TrellisException;
import java.nio.file.Path;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scoring jobs' source version on the command line: the given one, else the table's latest when the job starts (what
 * a worker in cluster mode asks for), and a missing table named as such.
 */
class ScoringSourceArgumentTest {
    private static final Set<String> KNOWN = Set.of("table", "source-version");

    @TempDir
    Path tmp;

    @Test
    void withoutASourceVersionTheJobReadsTheTablesLatestVersion() {
        SparkSession spark = TestingSpark.session();
        String table = tmp.resolve("source").toString();
        spark.range(3).write().format("delta").save(table);
        spark.range(5).write().format("delta").mode("append").save(table);

        assertThat(BatchScoringJob.sourceArgument(spark, JobArguments.parse("batch-score", new String[] {"--table", table}, KNOWN),
                SampleModels.customerChurn())).isEqualTo(new DatasetVersion(table, 1));
        assertThat(BatchScoringJob.sourceArgument(spark, JobArguments.parse("batch-score",
                new String[] {"--table", table, "--source-version", "0"}, KNOWN), SampleModels.customerChurn()))
                .isEqualTo(new DatasetVersion(table, 0));
    }

    @Test
    void withoutASourceVersionAMissingTableFailsAsMissing() {
        String table = tmp.resolve("nothing-here").toString();
        assertThatThrownBy(() -> BatchScoringJob.sourceArgument(TestingSpark.session(),
                JobArguments.parse("batch-score", new String[] {"--table", table}, KNOWN), SampleModels.customerChurn()))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MISSING_TABLE))
                .hasMessageContaining("no Delta table at " + table);
    }
}
