package io.trellis.spark.ingest;

import static org.apache.spark.sql.functions.col;

import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobMain;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;

/**
 * Appends a drop of Parquet, CSV or JSON files to a raw Delta table.
 *
 * <p>Schema enforcement happens before anything is written: every column whose presence or type differs
 * from the table is named with both types. CSV and JSON are parsed with the table's own types in FAILFAST
 * mode, so a value that does not parse is an error, never a silent null.
 *
 * <p>Idempotent: the ingest key is a SHA-256 over the drop's files (sorted relative names and contents).
 * The append carries {@code txnAppId = trellis-ingest-<key>}, {@code txnVersion = 1} and
 * {@code userMetadata = <key>}, so a drop commits once however often it is ingested; a repeat finds that
 * commit in the table history and reports it as skipped.
 */
public final class IngestJob {
    public static final String TXN_APP_PREFIX = "trellis-ingest-";

    private IngestJob() {}

    public static IngestReport run(SparkSession spark, IngestRequest request) {
        Map<String, Path> files = dropFiles(spark, request.dropPath());
        String key = ingestKey(spark, files);
        String table = request.tablePath();
        boolean tableExists = DeltaTables.exists(spark, table);
        if (tableExists) {
            OptionalLong earlier = DeltaTables.versionWithUserMetadata(spark, table, key);
            if (earlier.isPresent()) {
                return new IngestReport(table, earlier.getAsLong(), rowsOf(spark, table, earlier.getAsLong()), key, true);
            }
        }
        DropFormat format = request.format() != null ? request.format() : DropFormat.detect(request.dropPath(), files.keySet());
        String[] paths = files.values().stream().map(Path::toString).toArray(String[]::new);

        Dataset<Row> drop = inferred(spark, format, paths);
        if (tableExists) {
            StructType tableSchema = spark.read().format("delta").load(table).schema();
            List<String> problems = schemaProblems(tableSchema, drop.schema(), format, request.schemaMode());
            if (!problems.isEmpty()) {
                throw new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                        "drop " + request.dropPath() + " does not match the schema of the Delta table " + table + ":\n  - "
                                + String.join("\n  - ", problems)
                                + "\nFix the drop's files to match the table"
                                + (request.schemaMode() == SchemaMode.ENFORCE
                                        ? ", or ingest with schema evolution (schema mode EVOLVE) to add new columns"
                                        : "")
                                + "; schema evolution never changes an existing column's type.");
            }
            drop = conformed(spark, format, paths, drop.schema(), tableSchema);
        }

        var writer = drop.write().format("delta").mode("append")
                .option("txnAppId", TXN_APP_PREFIX + key)
                .option("txnVersion", 1L)
                .option("userMetadata", key);
        if (request.schemaMode() == SchemaMode.EVOLVE) {
            writer = writer.option("mergeSchema", "true");
        }
        try {
            writer.save(table);
        } catch (RuntimeException e) {
            throw translateWriteFailure(e, request);
        }
        long version = DeltaTables.versionWithUserMetadata(spark, table, key).orElseThrow(() ->
                new IllegalStateException("ingest of " + request.dropPath() + " into " + table
                        + " committed but no commit carries its key " + key));
        return new IngestReport(table, version, rowsOf(spark, table, version), key, false);
    }

    private static long rowsOf(SparkSession spark, String table, long version) {
        String n = DeltaTables.operationMetrics(spark, table, version).get("numOutputRows");
        return n == null ? -1 : Long.parseLong(n);
    }

    /** The drop's data files by name relative to the drop (a single file: its own name); Spark's hidden files skipped. */
    static Map<String, Path> dropFiles(SparkSession spark, String dropPath) {
        Path root = new Path(dropPath);
        Map<String, Path> files = new TreeMap<>();
        try {
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(root)) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST,
                        "drop " + dropPath + " does not exist; pass the path of a file or a directory of files to ingest");
            }
            FileStatus status = fs.getFileStatus(root);
            if (status.isFile()) {
                files.put(root.getName(), status.getPath());
            } else {
                String prefix = status.getPath().toUri().getPath();
                RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
                while (it.hasNext()) {
                    Path p = it.next().getPath();
                    String relative = p.toUri().getPath().substring(prefix.length()).replaceFirst("^/+", "");
                    if (!isHidden(relative)) {
                        files.put(relative, p);
                    }
                }
            }
        } catch (IOException e) {
            throw new TrellisException(ErrorCode.TRANSIENT, "cannot list drop " + dropPath + ": " + e.getMessage(), e);
        }
        if (files.isEmpty()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    "drop " + dropPath + " holds no data files (names starting with '_' or '.' are ignored); put the files to ingest there");
        }
        return files;
    }

    private static boolean isHidden(String relative) {
        for (String part : relative.split("/")) {
            if (part.startsWith("_") || part.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** SHA-256 over the sorted relative names and the contents of the files. */
    static String ingestKey(SparkSession spark, Map<String, Path> files) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buffer = new byte[64 * 1024];
        for (Map.Entry<String, Path> f : files.entrySet()) {
            md.update(f.getKey().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            try (InputStream in = f.getValue().getFileSystem(spark.sparkContext().hadoopConfiguration()).open(f.getValue())) {
                long length = 0;
                for (int n; (n = in.read(buffer)) > 0; ) {
                    md.update(buffer, 0, n);
                    length += n;
                }
                // The length ends each file so that moving bytes between adjacent files changes the key.
                md.update(Long.toString(length).getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f.getValue(), e);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static Dataset<Row> inferred(SparkSession spark, DropFormat format, String[] paths) {
        return switch (format) {
            case PARQUET -> spark.read().parquet(paths);
            case CSV -> spark.read().option("header", "true").option("inferSchema", "true").csv(paths);
            case JSON -> spark.read().json(paths);
        };
    }

    /**
     * The drop parsed with the table's types (text formats, FAILFAST) and cast to them (Parquet widening);
     * columns the table lacks keep the drop's type.
     */
    private static Dataset<Row> conformed(SparkSession spark, DropFormat format, String[] paths, StructType dropSchema, StructType tableSchema) {
        Map<String, StructField> tableFields = new TreeMap<>();
        for (StructField f : tableSchema.fields()) {
            tableFields.put(f.name(), f);
        }
        Dataset<Row> drop;
        if (format.isText()) {
            List<StructField> read = new ArrayList<>();
            for (StructField f : dropSchema.fields()) {
                StructField t = tableFields.get(f.name());
                read.add(new StructField(f.name(), t != null ? t.dataType() : f.dataType(), true, f.metadata()));
            }
            DataFrameReader reader = spark.read().schema(new StructType(read.toArray(StructField[]::new))).option("mode", "FAILFAST");
            drop = format == DropFormat.CSV
                    ? reader.option("header", "true").option("enforceSchema", "false").csv(paths)
                    : reader.json(paths);
        } else {
            drop = spark.read().parquet(paths);
        }
        List<Column> cols = new ArrayList<>();
        for (StructField f : dropSchema.fields()) {
            StructField t = tableFields.get(f.name());
            cols.add(t != null && !t.dataType().equals(f.dataType())
                    ? col(f.name()).cast(t.dataType()).as(f.name())
                    : col(f.name()));
        }
        return drop.select(cols.toArray(Column[]::new));
    }

    /** Every column that differs, as "column 'age': table has int, drop has string". */
    static List<String> schemaProblems(StructType table, StructType drop, DropFormat format, SchemaMode mode) {
        List<String> problems = new ArrayList<>();
        Map<String, DataType> dropTypes = new TreeMap<>();
        for (StructField f : drop.fields()) {
            dropTypes.put(f.name(), f.dataType());
        }
        Set<String> tableNames = Set.of(table.fieldNames());
        for (StructField t : table.fields()) {
            DataType d = dropTypes.get(t.name());
            if (d == null) {
                if (mode == SchemaMode.ENFORCE) {
                    problems.add("column '" + t.name() + "': table has " + t.dataType().simpleString() + ", drop does not have it");
                }
            } else if (!compatible(t.dataType(), d, format)) {
                problems.add("column '" + t.name() + "': table has " + t.dataType().simpleString() + ", drop has " + d.simpleString());
            }
        }
        if (mode == SchemaMode.ENFORCE) {
            for (StructField f : drop.fields()) {
                if (!tableNames.contains(f.name())) {
                    problems.add("column '" + f.name() + "': table does not have it, drop has " + f.dataType().simpleString());
                }
            }
        }
        return problems;
    }

    /** Whether values of the drop's type can go into the table's column without loss (text is re-parsed strictly). */
    static boolean compatible(DataType table, DataType drop, DropFormat format) {
        if (table.equals(drop)) {
            return true;
        }
        if (table instanceof DoubleType && drop instanceof NumericType) {
            return true;
        }
        if (table instanceof FloatType && isIntegral(drop)) {
            return true;
        }
        if (isIntegral(table) && isIntegral(drop)) {
            // Parquet stores exact types: only widening. Text is re-parsed with the table's type, which fails on overflow.
            return format.isText() || rank(drop) <= rank(table);
        }
        if (format.isText()) {
            if (table instanceof StringType) {
                return true;
            }
            if ((table instanceof FloatType || table instanceof DecimalType) && drop instanceof NumericType) {
                return true;
            }
            boolean temporal = table instanceof DateType || table instanceof TimestampType || table instanceof TimestampNTZType;
            boolean dropTemporalOrText = drop instanceof StringType || drop instanceof DateType
                    || drop instanceof TimestampType || drop instanceof TimestampNTZType;
            if (temporal && dropTemporalOrText) {
                return true;
            }
            if (table instanceof BooleanType && drop instanceof StringType) {
                return false;
            }
        }
        return false;
    }

    private static boolean isIntegral(DataType t) {
        return t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType || t instanceof LongType;
    }

    private static int rank(DataType t) {
        if (t instanceof ByteType) {
            return 1;
        }
        if (t instanceof ShortType) {
            return 2;
        }
        if (t instanceof IntegerType) {
            return 3;
        }
        return 4;
    }

    private static RuntimeException translateWriteFailure(RuntimeException e, IngestRequest request) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (m.contains("MALFORMED_RECORD") || m.contains("Malformed records") || m.contains("CSV header does not conform")) {
                return new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                        "drop " + request.dropPath() + " has a value that does not parse as the column type of the Delta table "
                                + request.tablePath() + ": " + firstLine(m)
                                + ". Fix the value in the drop's files (the table's types are enforced when parsing).", e);
            }
            if (m.contains("DELTA_FAILED_TO_MERGE_FIELDS") || m.contains("A schema mismatch detected")) {
                return new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                        "drop " + request.dropPath() + " does not match the schema of the Delta table " + request.tablePath()
                                + ": " + firstLine(m) + ". Fix the drop's files to match the table.", e);
            }
        }
        return e;
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** {@code --drop <file or dir> --table <path> [--format parquet|csv|json] [--schema-mode enforce|evolve] [--report <path>]} */
    public static void main(String[] args) {
        JobMain.run("ingest", args, Set.of("drop", "table", "format", "schema-mode"), (spark, a) -> {
            SchemaMode mode;
            try {
                mode = SchemaMode.valueOf(a.get("schema-mode", "enforce").trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST,
                        "ingest: --schema-mode must be enforce or evolve, got '" + a.get("schema-mode", "") + "'");
            }
            DropFormat format = a.has("format") ? DropFormat.fromName(a.require("format")) : null;
            return run(spark, new IngestRequest(a.require("drop"), a.require("table"), format, mode));
        });
    }
}
