package io.trellis.workers.cli;

import io.trellis.workers.Reproduction;
import io.trellis.workers.TrellisRuntime;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = {"Re-run the training of a recorded model version from its pinned Delta versions, spec",
                "(parameters, seed) and code path, and report whether the metrics match (exit 4 when not)."})
final class ReproduceCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "VERSION")
    int version;

    @Option(names = "--as", description = "Identity recorded in the audit trail (default: $TRELLIS_USER, else the OS user).")
    String actor;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            Reproduction.Result r = new Reproduction(runtime.metadata(), runtime.spark(), runtime.config().home().resolve("scratch"))
                    .run(model, version, actor == null ? TrellisCli.defaultActor() : actor);
            System.out.println("Reproducing " + model + " v" + version + " from " + r.source() + " (" + r.featureRows() + " feature rows)");
            System.out.println("features: " + (r.featuresIdentical() == null ? "recorded version " + r.recordedFeatures() + " not readable, not compared"
                    : r.featuresIdentical() ? "identical to the recorded " + r.recordedFeatures() : "DIFFERENT from the recorded " + r.recordedFeatures()));
            for (Reproduction.MetricComparison m : r.metrics()) {
                System.out.printf(Locale.ROOT, "  %-10s recorded %.12f  reproduced %s  diff %.2e  %s%n", m.metric(), m.recorded(),
                        m.reproduced() == null ? "(missing)" : String.format(Locale.ROOT, "%.12f", m.reproduced()), m.difference(),
                        m.matches() ? "ok" : "MISMATCH");
            }
            System.out.println(r.reproduced() ? "metrics match " + (r.exact() ? "exactly" : "within " + Reproduction.TOLERANCE)
                    : "NOT reproduced");
            return r.reproduced() ? TrellisCli.EXIT_OK : TrellisCli.EXIT_RUN_FAILED;
        }
    }
}
