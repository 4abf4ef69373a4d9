package io.trellis.workers.cli;

import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.TrellisException;
import io.trellis.workers.TrellisRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "models", mixinStandardHelpOptions = true, description = "Register model specs and list versions.",
        subcommands = {ModelsCommand.Apply.class, ModelsCommand.Versions.class})
final class ModelsCommand {
    @ParentCommand
    TrellisCli root;

    @Command(name = "apply", mixinStandardHelpOptions = true, description = "Validate a model spec file and register it (new model or new spec).")
    static final class Apply implements Callable<Integer> {
        @ParentCommand
        ModelsCommand parent;

        @Parameters(paramLabel = "SPEC", description = "The model spec (YAML or JSON).")
        Path spec;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() throws Exception {
            String yaml = Files.readString(spec);
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                ModelSpec model;
                try {
                    model = ModelSpecLoader.parse(yaml, spec.toString());
                } catch (TrellisException e) {
                    // A rejected spec changes nothing, but the attempt is part of the audit trail.
                    runtime.registry().recordAudit(actor, "model.spec_applied", AuditOutcome.REJECTED, null, null, null,
                            e.getMessage(), Map.of("file", spec.toString(), "specSha256", ModelSpecLoader.sha256(yaml)));
                    throw e;
                }
                runtime.registry().applyModelSpec(model.name(), yaml, ModelSpecLoader.sha256(yaml), model.environments(), actor);
                System.out.println("model " + model.name() + " registered; environments " + model.environments());
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "versions", mixinStandardHelpOptions = true, description = "List a model's versions with their metrics.")
    static final class Versions implements Callable<Integer> {
        @ParentCommand
        ModelsCommand parent;

        @Parameters(paramLabel = "MODEL")
        String model;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                for (ModelVersionRecord v : runtime.registry().versions(model)) {
                    System.out.printf(Locale.ROOT, "v%-4d %-10s %-24s auc=%s run=%s%n", v.version(), v.status(), v.algorithm(),
                            v.metrics().get("auc"), v.runKey());
                }
                return TrellisCli.EXIT_OK;
            }
        }
    }
}
