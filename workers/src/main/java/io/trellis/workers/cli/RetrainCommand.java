package io.trellis.workers.cli;

import io.trellis.metadata.ModelRecord;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.RetrainOverrides;
import io.trellis.spec.TrellisException;
import io.trellis.workers.RetrainRunner;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.retrain.RetrainRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "retrain", mixinStandardHelpOptions = true,
        description = {"Retrain a registered model: start the workflow, show its progress, print the summary.",
                "Overrides for this run only: a data window on the model's time column (--from/--to) and hyperparameters"
                        + " (--param NAME=VALUE, repeatable), checked against the model's algorithm; bad ones exit 2 and start nothing."})
final class RetrainCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL")
    String model;

    @Option(names = "--reason", description = "Why this retrain (recorded in the audit trail).")
    String reason;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Option(names = "--from", paramLabel = "TIME", description = "Train only on rows whose time column is at or after TIME"
            + " (ISO-8601 instant, e.g. 2025-01-02T00:00:00Z, or a date, midnight UTC).")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "... and before TIME (exclusive); same forms as --from.")
    String to;

    @Option(names = "--param", paramLabel = "NAME=VALUE", description = "A hyperparameter for this run, replacing the spec's (repeatable),"
            + " e.g. --param maxIter=50.")
    Map<String, String> params = new LinkedHashMap<>();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            RetrainOverrides overrides = overrides(runtime);
            RetrainRunner.Outcome outcome = new RetrainRunner(runtime, System.out).run(new RetrainRequest(model, actor, reason, overrides));
            return TrellisCli.exitCode(outcome);
        }
    }

    /** The overrides, checked against the model's spec; a usage error (exit 2) naming every problem otherwise. */
    private RetrainOverrides overrides(TrellisRuntime runtime) {
        if (from == null && to == null && params.isEmpty()) {
            return null;
        }
        Map<String, Double> hyperparameters = new LinkedHashMap<>();
        params.forEach((name, value) -> {
            try {
                hyperparameters.put(name, Double.parseDouble(value.trim()));
            } catch (NumberFormatException e) {
                throw new ParameterException(spec.commandLine(), "--param " + name + ": must be a number, got '" + value + "'");
            }
        });
        RetrainOverrides overrides;
        try {
            overrides = RetrainOverrides.of(from, to, hyperparameters);
        } catch (TrellisException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage().replace("'from'", "--from").replace("'to'", "--to"));
        }
        ModelRecord record = runtime.registry().findModel(model).orElseThrow(() -> new TrellisException(ErrorCode.UNKNOWN_MODEL,
                "No model '" + model + "' is registered; apply its spec first (trellis models apply)."));
        List<String> problems = overrides.problems(ModelSpecLoader.parse(record.specYaml(), "registry:" + model));
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "the overrides do not fit model " + model + ":\n  - "
                    + String.join("\n  - ", problems).replace("hyperparameters.", "--param ").replace("'from'", "--from").replace("'to'", "--to"));
        }
        return overrides;
    }
}
