package io.trellis.workers;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.common.interceptors.WorkerInterceptor;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.activities.artifacts.S3ArtifactStore;
import io.trellis.activities.monitor.MonitorActivitiesImpl;
import io.trellis.activities.promotion.PromotionActivitiesImpl;
import io.trellis.activities.registry.RegistryActivitiesImpl;
import io.trellis.activities.spark.DriftActivitiesImpl;
import io.trellis.activities.spark.ScoringActivitiesImpl;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.activities.spark.PricedUsageSink;
import io.trellis.activities.spark.UsageSink;
import io.trellis.activities.budget.BudgetActivitiesImpl;
import io.trellis.metadata.ApiAccess;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.MonitoringStore;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RegistryQueries;
import io.trellis.spark.Lake;
import io.trellis.spark.SparkSessions;
import io.trellis.workers.embedded.EmbeddedPostgresServer;
import io.trellis.workers.embedded.EmbeddedTemporalServer;
import io.trellis.workers.schedules.DurableSchedules;
import io.trellis.workers.schedules.Schedules;
import io.trellis.workers.schedules.TemporalSchedules;
import io.trellis.workflows.activities.SparkActivities;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that builds connections from configuration: the metadata store (embedded PostgreSQL unless a
 * JDBC URL is set), Temporal (the embedded test server unless an address is set), the Spark session, the lake,
 * the artifact store and the workers. Temporal and Spark start on first use, so commands that only read the
 * registry stay fast. With the embedded Temporal server nothing outside this process can run the workflows,
 * so the first use of the client also starts the workers here.
 */
public final class TrellisRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TrellisRuntime.class);

    private final TrellisConfig config;
    private final UnaryOperator<SparkActivities> sparkActivities;
    private final List<WorkerInterceptor> interceptors;
    /** Closed last-opened first. */
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    private S3ArtifactStore s3Artifacts;
    private final MetadataStore metadata;
    private WorkflowClient client;
    private SparkSession spark;
    private WorkerFactory workers;

    private TrellisRuntime(TrellisConfig config, UnaryOperator<SparkActivities> sparkActivities, List<WorkerInterceptor> interceptors) {
        this.config = config;
        this.sparkActivities = sparkActivities;
        this.interceptors = List.copyOf(interceptors);
        try {
            DatabaseConfig db;
            if (config.jdbcUrl().isPresent()) {
                db = new DatabaseConfig(config.jdbcUrl().get(), config.dbUser(), config.dbPassword(), config.dbPoolSize());
            } else {
                EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(config.home().resolve("postgres"));
                closeables.push(pg);
                db = pg.databaseConfig(config.dbPoolSize());
            }
            metadata = MetadataStore.open(db);
            closeables.push(metadata);
        } catch (RuntimeException e) {
            closeAll();
            throw e;
        }
    }

    /** Connects to the configured services, starting embedded ones for what is not configured. */
    public static TrellisRuntime open(TrellisConfig config) {
        return new TrellisRuntime(config, UnaryOperator.identity(), List.of());
    }

    /**
     * As {@link #open(TrellisConfig)}, with the Spark activities wrapped before they are registered (tests use
     * it to inject faults such as a worker dying right after a Delta commit).
     */
    public static TrellisRuntime open(TrellisConfig config, UnaryOperator<SparkActivities> sparkActivities) {
        return new TrellisRuntime(config, sparkActivities, List.of());
    }

    /**
     * As {@link #open(TrellisConfig)}, with interceptors on every activity and workflow this process's workers
     * run (the crash tests use one to kill the worker while a chosen activity runs).
     */
    public static TrellisRuntime open(TrellisConfig config, List<WorkerInterceptor> interceptors) {
        return new TrellisRuntime(config, UnaryOperator.identity(), interceptors);
    }

    public TrellisConfig config() {
        return config;
    }

    public MonitoringStore monitoring() {
        return metadata.monitoring();
    }

    public Registry registry() {
        return metadata.registry();
    }

    /** The metadata store: audit chain verification, lineage queries, exports. */
    public MetadataStore metadata() {
        return metadata;
    }

    /** API tokens and idempotency keys. */
    public ApiAccess apiAccess() {
        return metadata.apiAccess();
    }

    /** Filtered, paged reads (runs, audit) for the API. */
    public RegistryQueries queries() {
        return metadata.queries();
    }

    public boolean embeddedTemporal() {
        return config.temporalAddress().isEmpty();
    }

    /** The Temporal client, connected on first use (with the embedded server, the workers start with it). */
    public synchronized WorkflowClient client() {
        if (client == null) {
            String target;
            if (embeddedTemporal()) {
                // The embedded server keeps workflows in memory: runs an earlier process left RUNNING are gone.
                List<String> abandoned = registry().abandonRunningRuns("trellis",
                        "the embedded Temporal server that ran it stopped with its process");
                if (!abandoned.isEmpty()) {
                    log.warn("closed {} run(s) left RUNNING by an earlier embedded process as FAILED: {}", abandoned.size(), abandoned);
                }
                EmbeddedTemporalServer server = EmbeddedTemporalServer.start(0);
                closeables.push(server);
                target = server.target();
            } else {
                target = config.temporalAddress().get();
            }
            WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget(target).build());
            closeables.push(() -> {
                service.shutdown();
                service.awaitTermination(5, TimeUnit.SECONDS);
            });
            client = WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder()
                    .setNamespace(config.temporalNamespace()).build());
            if (embeddedTemporal()) {
                startWorkers();
            }
        }
        return client;
    }

    /**
     * Retrain and scoring schedules: Temporal Schedules on a configured cluster, the durable scheduler workflow on
     * the embedded test server (which lacks the Schedules API).
     */
    public Schedules schedules() {
        if (embeddedTemporal()) {
            return new DurableSchedules(client(), registry(), queries());
        }
        return new TemporalSchedules(ScheduleClient.newInstance(client().getWorkflowServiceStubs(),
                ScheduleClientOptions.newBuilder().setNamespace(config.temporalNamespace()).build()), registry());
    }

    public Lake lake() {
        return new Lake(config.lakeRoot());
    }

    /**
     * The local store under {@code trellis.artifact.root}, or the S3 store when that is an {@code s3://} URI (one
     * client per runtime, credentials from the AWS SDK's default provider chain).
     */
    public synchronized ArtifactStore artifactStore() {
        if (config.artifactS3().isEmpty()) {
            return new LocalArtifactStore(config.artifactRoot());
        }
        if (s3Artifacts == null) {
            s3Artifacts = S3ArtifactStore.connect(config.artifactS3().get(), config.artifactRoot());
            closeables.push(s3Artifacts);
        }
        return s3Artifacts;
    }

    /** The shared Spark session, started on first use (it costs seconds). */
    public synchronized SparkSession spark() {
        if (spark == null) {
            // A session this process already had (a test's shared one) is reused and left running.
            boolean ours = SparkSession.getDefaultSession().isEmpty();
            spark = SparkSessions.local("trellis", config.sparkMaster());
            if (ours) {
                SparkSession started = spark;
                closeables.push(started::stop);
            }
        }
        return spark;
    }

    /** Recorded resource usage priced by the configured price sheet. */
    public CostReport costs() {
        return new CostReport(metadata.resourceUsage(), config.prices());
    }

    /** Where the Spark steps record their resource usage: PostgreSQL, or nowhere with accounting turned off. */
    private UsageSink usageSink() {
        return config.costAccounting() ? new PricedUsageSink(metadata.resourceUsage(), config.prices()) : UsageSink.NONE;
    }

    /** Starts the orchestration and Spark workers in this process (idempotent). */
    public synchronized void startWorkers() {
        if (workers != null) {
            return;
        }
        WorkerFactory factory = WorkerFactory.newInstance(client(), WorkerFactoryOptions.newBuilder()
                .setWorkerInterceptors(interceptors.toArray(WorkerInterceptor[]::new))
                .build());
        TrellisWorkers.register(factory, new TrellisWorkers.Activities(
                        new RegistryActivitiesImpl(registry(), config.codeVersion()),
                        new PromotionActivitiesImpl(registry(), artifactStore()),
                        sparkActivities.apply(new SparkActivitiesImpl(spark(), lake(), artifactStore(), config.home().resolve("scratch"),
                                usageSink())),
                        new ScoringActivitiesImpl(spark(), lake(), artifactStore(), usageSink()),
                        new MonitorActivitiesImpl(registry(), monitoring(), artifactStore()),
                        new DriftActivitiesImpl(spark(), lake(), artifactStore(), usageSink()),
                        new BudgetActivitiesImpl(registry(), metadata.resourceUsage(), config.prices(), java.time.Clock.systemUTC())),
                config.sparkConcurrency(), Duration.ofSeconds(config.stickyTimeoutSeconds()));
        factory.start();
        workers = factory;
        closeables.push(() -> {
            factory.shutdown();
            factory.awaitTermination(30, TimeUnit.SECONDS);
        });
        log.info("workers started on {} (Spark concurrency {})",
                embeddedTemporal() ? "the embedded Temporal server" : config.temporalAddress().get(), config.sparkConcurrency());
    }

    /** Whether this process's workers are started and not shutting down (the worker's liveness). */
    public synchronized boolean workersRunning() {
        return workers != null && workers.isStarted() && !workers.isShutdown() && !workers.isTerminated();
    }

    /** Blocks until the process is asked to stop (SIGTERM, Ctrl-C); used by {@code trellis worker}. */
    public void awaitShutdown() throws InterruptedException {
        Object lock = new Object();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (lock) {
                lock.notifyAll();
            }
        }));
        synchronized (lock) {
            lock.wait();
        }
    }

    @Override
    public void close() {
        closeAll();
    }

    private synchronized void closeAll() {
        while (!closeables.isEmpty()) {
            try {
                closeables.pop().close();
            } catch (Exception e) {
                log.warn("while shutting down: {}", e.toString());
            }
        }
    }
}
