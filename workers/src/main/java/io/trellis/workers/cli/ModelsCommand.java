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

    @Command(name = "versions", mixinStandardHelpOptions = true, description = {"List a model's versions with their metrics,"
            + " oldest first, a page at a time (keyset on the version number: stable while new versions register).",
            "With more to come the last line is 'next: --after N'."})
    static final class Versions implements Callable<Integer> {
        @ParentCommand
        ModelsCommand parent;

        @Parameters(paramLabel = "MODEL")
        String model;

        @picocli.CommandLine.Option(names = "--limit", description = "Versions per page, 1-1000 (default: ${DEFAULT-VALUE}).")
        int limit = 100;

        @picocli.CommandLine.Option(names = "--after", paramLabel = "VERSION", description = "Start after this version (the previous page's 'next').")
        Integer after;

        @Override
        public Integer call() {
            if (limit < 1 || limit > io.trellis.metadata.RegistryQueries.MAX_PAGE_SIZE || (after != null && after < 0)) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--limit must be 1 to " + io.trellis.metadata.RegistryQueries.MAX_PAGE_SIZE + " and --after not negative");
            }
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                var page = runtime.queries().versions(model, after, limit);
                for (ModelVersionRecord v : page.items()) {
                    System.out.printf(Locale.ROOT, "v%-4d %-10s %-24s auc=%s run=%s%n", v.version(), v.status(), v.algorithm(),
                            v.metrics().get("auc"), v.runKey());
                }
                if (page.nextCursor() != null) {
                    System.out.println("next: --after " + page.nextCursor());
                }
                return TrellisCli.EXIT_OK;
            }
        }
    }
}
