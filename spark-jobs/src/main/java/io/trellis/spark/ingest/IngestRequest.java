package io.trellis.spark.ingest;

/** Append the files at {@code dropPath} (a file or a directory) to the raw Delta table at {@code tablePath}. */
public record IngestRequest(String dropPath, String tablePath, DropFormat format, SchemaMode schemaMode) {
    /** Format taken from the files' extensions; schema enforced. */
    public static IngestRequest of(String dropPath, String tablePath) {
        return new IngestRequest(dropPath, tablePath, null, SchemaMode.ENFORCE);
    }

    public IngestRequest withFormat(DropFormat f) {
        return new IngestRequest(dropPath, tablePath, f, schemaMode);
    }

    public IngestRequest withSchemaMode(SchemaMode m) {
        return new IngestRequest(dropPath, tablePath, format, m);
    }
}
