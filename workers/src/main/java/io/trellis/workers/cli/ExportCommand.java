package io.trellis.workers.cli;

import io.trellis.metadata.ComplianceExport;
import io.trellis.workers.TrellisRuntime;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a model's audit trail and lineage, with the audit chain's verification result, for a compliance file.")
final class ExportCommand implements Callable<Integer> {
    enum Format { json, csv }

    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Option(names = "--format", description = "json (one file) or csv (a folder: chain_verification.csv, audit_trail.csv, lineage.csv); default ${DEFAULT-VALUE}.")
    Format format = Format.json;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "PATH", description = "The JSON file, or the folder for CSV files.")
    Path output;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            ComplianceExport export = ComplianceExport.of(runtime.metadata(), model);
            if (format == Format.json) {
                export.writeJson(output);
            } else {
                export.writeCsv(output);
            }
            System.out.println("exported " + export.auditTrail().size() + " audit entries and " + export.versions().size() + " versions of "
                    + model + " to " + output + "; audit chain " + export.verification().summary());
            return export.verification().intact() ? TrellisCli.EXIT_OK : TrellisCli.EXIT_CHAIN_BROKEN;
        }
    }
}
