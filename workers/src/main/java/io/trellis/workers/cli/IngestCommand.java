package io.trellis.workers.cli;

import io.trellis.spark.ingest.DropFormat;
import io.trellis.spark.ingest.IngestJob;
import io.trellis.spark.ingest.IngestReport;
import io.trellis.spark.ingest.IngestRequest;
import io.trellis.spark.ingest.SchemaMode;
import io.trellis.workers.TrellisRuntime;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Append a drop of Parquet, CSV or JSON files to a raw Delta table, with schema enforcement.",
                "The same drop ingested twice appends once. Each ingestion is recorded as a dataset version."})
final class IngestCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(paramLabel = "DROP", description = "A file or a folder of files.")
    Path drop;

    @Option(names = "--table", required = true, description = "Target table, relative to the lake root (e.g. raw/customer_churn).")
    String table;

    @Option(names = "--format", required = true, description = "parquet, csv or json.")
    String format;

    @Option(names = "--evolve-schema", description = "Add new columns to the table instead of rejecting the drop.")
    boolean evolveSchema;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            IngestRequest request = new IngestRequest(drop.toAbsolutePath().toString(), runtime.lake().resolve(table),
                    DropFormat.fromName(format), evolveSchema ? SchemaMode.EVOLVE : SchemaMode.ENFORCE);
            IngestReport report = IngestJob.run(runtime.spark(), request);
            runtime.registry().recordIngestion(report.tablePath(), report.deltaVersion(), report.rowCount(), report.ingestKey(), actor);
            System.out.printf("%s %s: %d rows, Delta version %d, ingest key %s%n", report.skipped() ? "already ingested" : "ingested",
                    report.tablePath(), report.rowCount(), report.deltaVersion(), report.ingestKey().substring(0, 12));
            return TrellisCli.EXIT_OK;
        }
    }
}
