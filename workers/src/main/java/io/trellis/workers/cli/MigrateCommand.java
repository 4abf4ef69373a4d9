package io.trellis.workers.cli;

import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.MetadataStore;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * Applies the schema migrations as the schema's owner ({@code trellis.db.migration.user}, else {@code trellis.db.user}),
 * so that the services can run as the application role with {@code trellis.db.migrate=false}.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Apply pending database migrations as the schema owner (trellis.db.migration.user, else trellis.db.user).",
                "Run it before starting services that connect as the application role with trellis.db.migrate=false."})
final class MigrateCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Override
    public Integer call() {
        TrellisConfig config = root.config();
        if (config.jdbcUrl().isEmpty()) {
            // The embedded database is migrated whenever it is opened.
            try (TrellisRuntime ignored = TrellisRuntime.open(config)) {
                System.out.println("embedded database under " + config.home().resolve("postgres") + " is up to date");
            }
            return TrellisCli.EXIT_OK;
        }
        DatabaseConfig owner = TrellisRuntime.migrationDatabase(config);
        MetadataStore.MigrationOutcome outcome = MetadataStore.migrateSchema(owner);
        System.out.println("migrated " + config.jdbcUrl().get() + " as " + owner.user() + ": " + outcome.applied()
                + " migration(s) applied, schema version " + outcome.schemaVersion());
        return TrellisCli.EXIT_OK;
    }
}
