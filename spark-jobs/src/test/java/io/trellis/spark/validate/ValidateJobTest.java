package io.trellis.spark.validate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.spec.TrellisException;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class ValidateJobTest {
    private static final ModelSpec TINY = ModelSpecLoader.parse("""
            name: tiny
            source: {table: raw/tiny, keyColumn: id}
            label: y
            features: {numeric: [x], categorical: [c]}
            algorithm: {type: logistic_regression}
            quality:
              minRows: 10
              maxNullRate: {default: 0.0, x: 0.25}
              ranges: {x: {min: 0, max: 10}}
            """);
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType).add("y", DataTypes.IntegerType)
            .add("x", DataTypes.DoubleType).add("c", DataTypes.StringType);

    private final SparkSession spark = TestingSpark.session();

    @Test
    void theSampleDataPassesTheSampleSpec() {
        DatasetVersion churn = TestingSampleData.churnTable();
        SnapshotReport report = ValidateJob.run(spark, SampleModels.customerChurn(), churn.tablePath());

        assertThat(report.failures()).isEmpty();
        assertThat(report.passed()).isTrue();
        assertThat(report.deltaVersion()).isEqualTo(churn.version());
        assertThat(report.rowCount()).isEqualTo(TestingSampleData.ROWS);
        assertThat(report.find(RuleResult.MAX_NULL_RATE, "satisfaction_score").orElseThrow().observed()).matches("[0-9.]+% null \\(\\d+ of 4000\\)");
        assertThat(report.find(RuleResult.MAX_NULL_RATE, "satisfaction_score").orElseThrow().allowed()).isEqualTo("≤ 10.0%");
        assertThat(report.find(RuleResult.REQUIRED_COLUMN, "event_date")).isPresent();
        assertThat(report.results()).extracting(RuleResult::rule).contains(RuleResult.MIN_ROWS, RuleResult.LABEL_NOT_NULL,
                RuleResult.LABEL_BINARY, RuleResult.KEY_NOT_NULL, RuleResult.RANGE);
    }

    @Test
    void eachFailingRuleReportsWhatItSaw() {
        String path = table(SCHEMA,
                RowFactory.create("a", 0, 1.0, "u"),
                RowFactory.create("b", 1, 20.0, null),
                RowFactory.create(null, null, null, "v"),
                RowFactory.create("d", 2, -1.0, "u"),
                RowFactory.create("e", 1, 5.0, "v"),
                RowFactory.create("f", 0, null, "u"));
        SnapshotReport report = ValidateJob.run(spark, TINY, path);

        assertThat(report.passed()).isFalse();
        assertThat(report.rowCount()).isEqualTo(6);
        assertThat(report.find(RuleResult.MIN_ROWS, null).orElseThrow())
                .isEqualTo(new RuleResult(RuleResult.MIN_ROWS, null, "6 rows", "≥ 10 rows", false));
        assertThat(report.find(RuleResult.LABEL_NOT_NULL, "y").orElseThrow())
                .isEqualTo(new RuleResult(RuleResult.LABEL_NOT_NULL, "y", "1 of 6 rows null", "0 null", false));
        assertThat(report.find(RuleResult.LABEL_BINARY, "y").orElseThrow())
                .isEqualTo(new RuleResult(RuleResult.LABEL_BINARY, "y", "1 of 6 rows not in {0, 1}", "0 not in {0, 1}", false));
        assertThat(report.find(RuleResult.KEY_NOT_NULL, "id").orElseThrow())
                .isEqualTo(new RuleResult(RuleResult.KEY_NOT_NULL, "id", "1 of 6 rows null", "0 null", false));
        assertThat(report.find(RuleResult.MAX_NULL_RATE, "x").orElseThrow())
                .isEqualTo(new RuleResult(RuleResult.MAX_NULL_RATE, "x", "33.3% null (2 of 6)", "≤ 25.0%", false));
        assertThat(report.find(RuleResult.MAX_NULL_RATE, "c").orElseThrow())
                .isEqualTo(new RuleResult(RuleResult.MAX_NULL_RATE, "c", "16.7% null (1 of 6)", "≤ 0.0%", false));
        assertThat(report.find(RuleResult.RANGE, "x").orElseThrow())
                .isEqualTo(new RuleResult(RuleResult.RANGE, "x", "2 of 6 rows out of range (min -1, max 20)", "[0, 10]", false));
        assertThatThrownBy(report::requirePassed)
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DATA_VALIDATION_FAILED))
                .hasMessageContaining("range on 'x': observed 2 of 6 rows out of range (min -1, max 20), allowed [0, 10]");
    }

    @Test
    void aMissingTableSaysHowToCreateIt() {
        String path = TestingSpark.newLake().resolve("raw/nothing").toString();
        assertThatThrownBy(() -> ValidateJob.run(spark, TINY, path))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MISSING_TABLE))
                .hasMessageContaining("no Delta table at " + path + "; run `trellis sample-data` or `trellis ingest` first");
    }

    @Test
    void anEmptyTableIsRejected() {
        String path = table(SCHEMA);
        assertThatThrownBy(() -> ValidateJob.run(spark, TINY, path))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.EMPTY_TABLE))
                .hasMessageContaining("has no rows at version 0");
    }

    @Test
    void schemaProblemsAreFoundBeforeAnySparkJob() {
        String missing = table(new StructType().add("id", DataTypes.StringType).add("y", DataTypes.IntegerType).add("z", DataTypes.DoubleType),
                RowFactory.create("a", 1, 1.0));
        assertThatThrownBy(() -> ValidateJob.run(spark, TINY, missing))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SCHEMA_MISMATCH))
                .hasMessageContaining("lacks columns x, c")
                .hasMessageContaining("available columns: id, y, z");

        String wrongTypes = table(new StructType().add("id", DataTypes.StringType).add("y", DataTypes.StringType)
                        .add("x", DataTypes.StringType).add("c", DataTypes.DoubleType),
                RowFactory.create("a", "yes", "1.0", 2.5));
        assertThatThrownBy(() -> ValidateJob.run(spark, TINY, wrongTypes))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SCHEMA_MISMATCH))
                .hasMessageContaining("numeric feature 'x' is string, must be a number type")
                .hasMessageContaining("categorical feature 'c' is double, must be string, integer or boolean")
                .hasMessageContaining("label 'y' is string, must be numeric (0/1) or boolean");
    }

    private String table(StructType schema, Row... rows) {
        String path = TestingSpark.newLake().resolve("raw/tiny").toString();
        List<Row> data = Arrays.asList(rows);
        spark.createDataFrame(data, schema).coalesce(1).write().format("delta").save(path);
        return path;
    }
}
