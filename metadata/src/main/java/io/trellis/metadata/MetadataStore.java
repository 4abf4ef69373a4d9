package io.trellis.metadata;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.persistence.EntityManagerFactory;
import java.time.Duration;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.hibernate.cfg.AvailableSettings;
import org.hibernate.jpa.HibernatePersistenceConfiguration;
import org.hibernate.tool.schema.Action;
import org.hibernate.type.format.jackson.JacksonJsonFormatMapper;

/**
 * The PostgreSQL metadata store: migrates the schema with Flyway, then starts Hibernate, which only
 * validates the schema (it never creates or alters it). One per process; close it on shutdown.
 */
public final class MetadataStore implements AutoCloseable {
    /** Where {@code trellis-migrations} keeps its SQL. */
    public static final String MIGRATIONS_LOCATION = "classpath:db/migration";
    /** How long a call waits for a pooled connection before it fails (a down database). */
    static final Duration CONNECTION_WAIT = Duration.ofSeconds(10);

    static final List<Class<?>> ENTITIES = List.of(
            ModelRow.class,
            ModelSpecRow.class,
            EnvironmentRow.class,
            DatasetVersionRow.class,
            TrainingRunRow.class,
            ValidationReportRow.class,
            ModelVersionRow.class,
            LineageEdgeRow.class,
            DeploymentRow.class,
            AuditLogRow.class,
            PrincipalRow.class,
            PromotionRow.class,
            ApiTokenRow.class,
            IdempotencyKeyRow.class);

    private final EntityManagerFactory emf;
    private final Registry registry;
    private final AuditChain auditChain;
    private final LineageQueries lineageQueries;
    private final MonitoringStore monitoring;
    private final ApiAccess apiAccess;
    private final RegistryQueries queries;
    private final Transactions tx;
    private final OpenLineageStore openLineage;
    private final ResourceUsageStore resourceUsage;
    private final RetentionStore retention;

    private MetadataStore(EntityManagerFactory emf) {
        this.emf = emf;
        this.tx = new Transactions(emf);
        this.registry = new Registry(tx);
        this.auditChain = new AuditChain(tx);
        this.lineageQueries = new LineageQueries(tx, registry);
        this.monitoring = new MonitoringStore(tx);
        this.apiAccess = new ApiAccess(tx);
        this.queries = new RegistryQueries(tx);
        this.openLineage = new OpenLineageStore(tx);
        this.resourceUsage = new ResourceUsageStore(tx);
        this.retention = new RetentionStore(tx);
    }

    /** Applies pending migrations, then builds the connection pool and validates the entity mappings. */
    public static MetadataStore open(DatabaseConfig config) {
        migrate(config);
        return connect(config);
    }

    /**
     * Builds the connection pool and validates the entity mappings without migrating: for an application
     * role that may not change the schema (a member of {@code trellis_app}, see migration V3).
     */
    public static MetadataStore connect(DatabaseConfig config) {
        EntityManagerFactory emf = new HibernatePersistenceConfiguration("trellis-metadata")
                .managedClasses(ENTITIES)
                .jdbcUrl(config.jdbcUrl())
                .jdbcCredentials(config.user(), config.password() == null ? "" : config.password())
                .schemaToolingAction(Action.VALIDATE)
                .property(AvailableSettings.CONNECTION_PROVIDER, "org.hibernate.hikaricp.internal.HikariCPConnectionProvider")
                .property("hibernate.hikari.maximumPoolSize", String.valueOf(config.poolSize()))
                .property("hibernate.hikari.minimumIdle", "1")
                .property("hibernate.hikari.poolName", "trellis-metadata")
                // Hikari waits 30 s for a connection by default: as long as a registry activity's start-to-close and a
                // Spark step's heartbeat timeout. With the database down, a call should fail well inside both, so that
                // the activity's retry policy (not a timeout) rides out the outage and its message names the cause.
                .property("hibernate.hikari.connectionTimeout", String.valueOf(CONNECTION_WAIT.toMillis()))
                .property(AvailableSettings.JSON_FORMAT_MAPPER, new JacksonJsonFormatMapper(jsonColumnMapper()))
                .createEntityManagerFactory();
        return new MetadataStore(emf);
    }

    /**
     * The mapper of JSON columns: Hibernate's default registers every Jackson module on the classpath, and in a process
     * with Spark that includes jackson-module-scala, which reads untyped JSON arrays (a validation report's rules) as
     * Scala collections that nothing else can write back. Every other module is kept, as before.
     */
    static ObjectMapper jsonColumnMapper() {
        ObjectMapper mapper = new ObjectMapper();
        for (com.fasterxml.jackson.databind.Module module : ObjectMapper.findModules(MetadataStore.class.getClassLoader())) {
            if (!module.getClass().getName().startsWith("com.fasterxml.jackson.module.scala.")) {
                mapper.registerModule(module);
            }
        }
        return mapper;
    }

    /** Applies pending migrations only; for tools that manage the schema apart from the services. */
    public static void migrate(DatabaseConfig config) {
        migrateSchema(config);
    }

    /** What a migration did: how many migrations it applied and the schema version after it. */
    public record MigrationOutcome(int applied, String schemaVersion) {}

    /** As {@link #migrate}, reporting what was applied ({@code trellis migrate}). */
    public static MigrationOutcome migrateSchema(DatabaseConfig config) {
        Flyway flyway = Flyway.configure()
                .dataSource(config.jdbcUrl(), config.user(), config.password())
                .locations(MIGRATIONS_LOCATION)
                .load();
        int applied = flyway.migrate().migrationsExecuted;
        String version = java.util.Arrays.stream(flyway.info().applied())
                .filter(m -> m.getVersion() != null)
                .map(m -> m.getVersion())
                .max(Comparable::compareTo)
                .map(v -> v.getVersion())
                .orElse("(none)");
        return new MigrationOutcome(applied, version);
    }

    public Registry registry() {
        return registry;
    }

    Transactions transactions() {
        return tx;
    }

    /** Verification of the audit log's hash chain. */
    public AuditChain auditChain() {
        return auditChain;
    }

    /** Lineage graph queries: upstream of a model version, downstream of a dataset, live at an instant. */
    public LineageQueries lineageQueries() {
        return lineageQueries;
    }

    public MonitoringStore monitoring() {
        return monitoring;
    }

    /** API tokens and idempotency keys. */
    public ApiAccess apiAccess() {
        return apiAccess;
    }

    /** Filtered, keyset-paged reads of runs, models and the audit log (for the API). */
    public RegistryQueries queries() {
        return queries;
    }

    /** OpenLineage run events of the Spark steps and their delivery attempts. */
    public OpenLineageStore openLineage() {
        return openLineage;
    }

    /** Resource usage per activity attempt and its rollups (costs and budgets). */
    public ResourceUsageStore resourceUsage() {
        return resourceUsage;
    }

    /** Legal holds, retention pins and purge marks (lineage-aware retention). */
    public RetentionStore retention() {
        return retention;
    }

    @Override
    public void close() {
        emf.close();
    }
}
