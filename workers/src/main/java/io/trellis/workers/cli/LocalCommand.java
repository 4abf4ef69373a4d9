package io.trellis.workers.cli;

import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.RetrainRunner;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.retrain.RunStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "local", mixinStandardHelpOptions = true,
        description = {"The main job on the embedded stack: starts PostgreSQL, the Temporal test server, Spark local and the",
                "local lake under ./trellis-data, generates the sample churn data if missing, registers the sample",
                "model and runs one full retraining lifecycle, then carries the new version through staging (gates,",
                "shadow run) to production (gates, approval by a second configured identity) and prints the environments."})
final class LocalCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--rows", description = "Rows of sample data (default ${DEFAULT-VALUE}).")
    long rows = SampleDataOptions.DEFAULT_ROWS;

    @Option(names = "--days", description = "Daily batches the rows are split into (default ${DEFAULT-VALUE}).")
    int days = SampleDataOptions.DEFAULT_DAYS;

    @Option(names = "--seed", description = "Generator seed (default ${DEFAULT-VALUE}).")
    long seed = SampleDataOptions.DEFAULT_SEED;

    @Option(names = "--drift-from-day", description = "Inject drift from this batch on (default: none).")
    int driftFromDay = SampleDataOptions.NO_DRIFT;

    @Option(names = "--spec", description = "Model spec to retrain instead of the shipped sample (its source table must exist).")
    Path spec;

    @Option(names = "--no-promotion", description = "Stop after the retrain (the version stays the dev candidate).")
    boolean noPromotion;

    @Option(names = "--as", description = "Identity recorded in the audit trail (default: $TRELLIS_USER or the OS user).")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() throws Exception {
        String yaml = spec == null ? SampleModels.customerChurnYaml() : Files.readString(spec);
        ModelSpec model = ModelSpecLoader.parse(yaml, spec == null ? "sample customer-churn" : spec.toString());
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            System.out.println("Trellis embedded stack: home " + runtime.config().home() + ", lake " + runtime.config().lakeRoot());
            SampleDataOptions sample = new SampleDataOptions(runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE),
                    rows, days, seed, driftFromDay, 1.0);
            LocalRetrain local = new LocalRetrain(runtime, System.out);
            RetrainRunner.Outcome outcome = local.run(model, yaml, spec == null ? sample : null, actor);
            if (outcome.status() != RunStatus.SUCCEEDED || noPromotion || !runtime.embeddedTemporal()) {
                return TrellisCli.exitCode(outcome);
            }
            PromotionRunner.Outcome promoted = local.promoteToProduction(model, outcome.result().version(), actor);
            return promoted.status() == PromotionStatus.DEPLOYED ? TrellisCli.EXIT_OK : TrellisCli.EXIT_RUN_FAILED;
        }
    }
}
