package io.trellis.spark.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class IngestJobTest {
    private final SparkSession spark = TestingSpark.session();
    private final Path lake = TestingSpark.newLake();
    private final String table = lake.resolve("raw/accounts").toString();

    @Test
    void csvJsonAndParquetDropsAppendToOneTable() throws IOException {
        IngestReport csv = IngestJob.run(spark, IngestRequest.of(csv("d1", "id,age,city\na,31,paris\nb,45,rome\nc,28,oslo\n"), table));
        assertThat(csv.skipped()).isFalse();
        assertThat(csv.deltaVersion()).isZero();
        assertThat(csv.rowCount()).isEqualTo(3);
        assertThat(csv.ingestKey()).hasSize(64);

        Path json = Files.createDirectories(lake.resolve("drops/d2"));
        Files.writeString(json.resolve("part-1.json"), "{\"id\":\"d\",\"age\":52,\"city\":\"lima\"}\n{\"id\":\"e\",\"age\":19,\"city\":\"kyiv\"}\n");
        IngestReport fromJson = IngestJob.run(spark, IngestRequest.of(json.toString(), table));
        assertThat(fromJson.deltaVersion()).isEqualTo(1);
        assertThat(fromJson.rowCount()).isEqualTo(2);

        String parquet = lake.resolve("drops/d3").toString();
        StructType schema = new StructType().add("id", DataTypes.StringType).add("age", DataTypes.IntegerType).add("city", DataTypes.StringType);
        spark.createDataFrame(List.of(RowFactory.create("f", 60, "nice")), schema).coalesce(1).write().parquet(parquet);
        IngestReport fromParquet = IngestJob.run(spark, IngestRequest.of(parquet, table));
        assertThat(fromParquet.deltaVersion()).isEqualTo(2);
        assertThat(fromParquet.rowCount()).isEqualTo(1);

        List<Row> rows = spark.read().format("delta").load(table).orderBy("id").collectAsList();
        assertThat(rows).extracting(r -> r.getString(0) + ":" + r.getInt(1)).containsExactly("a:31", "b:45", "c:28", "d:52", "e:19", "f:60");
        assertThat(spark.read().format("delta").load(table).schema().apply("age").dataType()).isEqualTo(DataTypes.IntegerType);
    }

    @Test
    void aDropWithDifferentTypesIsRejectedNamingColumnAndBothTypes() throws IOException {
        IngestJob.run(spark, IngestRequest.of(csv("ok", "id,age,score\na,31,1.5\n"), table));

        assertThatThrownBy(() -> IngestJob.run(spark, IngestRequest.of(csv("bad", "id,age,score\nb,unknown,2.5\n"), table)))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SCHEMA_MISMATCH))
                .hasMessageContaining("column 'age': table has int, drop has string")
                .hasMessageContaining("schema evolution");
        assertThatThrownBy(() -> IngestJob.run(spark, IngestRequest.of(csv("lost", "id,score\nc,2.5\n"), table)))
                .hasMessageContaining("column 'age': table has int, drop does not have it");
        assertThat(DeltaTable.forPath(spark, table).history().count()).isEqualTo(1);
    }

    @Test
    void evolveAddsANewColumnThatEnforceRejects() throws IOException {
        IngestJob.run(spark, IngestRequest.of(csv("v1", "id,age\na,31\n"), table));
        String v2 = csv("v2", "id,age,plan\nb,40,premium\n");

        assertThatThrownBy(() -> IngestJob.run(spark, IngestRequest.of(v2, table)))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SCHEMA_MISMATCH))
                .hasMessageContaining("column 'plan': table does not have it, drop has string");
        IngestReport evolved = IngestJob.run(spark, IngestRequest.of(v2, table).withSchemaMode(SchemaMode.EVOLVE));

        assertThat(evolved.deltaVersion()).isEqualTo(1);
        assertThat(spark.read().format("delta").load(table).schema().fieldNames()).containsExactly("id", "age", "plan");
        assertThat(spark.read().format("delta").load(table).where("plan = 'premium'").count()).isEqualTo(1);
    }

    @Test
    void theSameDropTwiceCommitsOnce() throws IOException {
        String drop = csv("again", "id,age\na,31\nb,32\n");
        IngestReport first = IngestJob.run(spark, IngestRequest.of(drop, table));
        IngestReport second = IngestJob.run(spark, IngestRequest.of(drop, table));

        assertThat(second).isEqualTo(new IngestReport(table, first.deltaVersion(), 2, first.ingestKey(), true));
        assertThat(first.skipped()).isFalse();
        assertThat(DeltaTable.forPath(spark, table).history().count()).isEqualTo(1);
        assertThat(spark.read().format("delta").load(table).count()).isEqualTo(2);
    }

    private String csv(String name, String text) throws IOException {
        Path dir = Files.createDirectories(lake.resolve("drops").resolve(name));
        Files.writeString(dir.resolve("data.csv"), text);
        return dir.toString();
    }
}
