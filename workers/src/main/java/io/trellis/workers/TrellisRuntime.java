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
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.activities.monitor.MonitorActivitiesImpl;
import io.trellis.activities.promotion.PromotionActivitiesImpl;
import io.trellis.activities.registry.RegistryActivitiesImpl;
import io.trellis.activities.spark.DriftActivitiesImpl;
import io.trellis.workflows.monitor.DriftActivities;
import io.trellis.spark.monitor.DriftMain;
import io.trellis.activities.spark.ScoringActivitiesImpl;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.activities.spark.cluster.ClusterDriftActivitiesImpl;
import io.trellis.activities.spark.cluster.ClusterScoringActivitiesImpl;
import io.trellis.activities.spark.cluster.ClusterSparkActivitiesImpl;
import io.trellis.activities.spark.cluster.SparkSubmitLauncher;
import io.trellis.activities.spark.cluster.SparkSubmitSettings;
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
import io.trellis.workflows.promotion.ScoringActivities;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

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
    private OpenLineageEmitter openLineage;
    private final CountDownLatch closed = new CountDownLatch(1);

    private TrellisRuntime(TrellisConfig config, UnaryOperator<SparkActivities> sparkActivities, List<WorkerInterceptor> interceptors) {
        this.config = config;
        this.sparkActivities = sparkActivities;
        this.interceptors = List.copyOf(interceptors);
        try {
            if (config.jdbcUrl().isPresent()) {
                DatabaseConfig db = new DatabaseConfig(config.jdbcUrl().get(), config.dbUser(), config.dbPassword(), config.dbPoolSize());
                try {
                    if (config.dbMigrate()) {
                        MetadataStore.migrate(migrationDatabase(config));
                    }
                    // Services may run as the application role (trellis.db.migrate=false): they never change the schema.
                    metadata = MetadataStore.connect(db);
                } catch (RuntimeException e) {
                    throw config.dbTls().explain(e);
                }
            } else {
                EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(config.home().resolve("postgres"));
                closeables.push(pg);
                metadata = MetadataStore.open(pg.databaseConfig(config.dbPoolSize()));
            }
            closeables.push(metadata);
        } catch (RuntimeException e) {
            closeAll();
            throw e;
        }
    }

    /**
     * How to reach the configured database as the schema's owner: {@code trellis.db.migration.user} and its password,
     * else the service user. Only for a configured JDBC URL.
     */
    public static DatabaseConfig migrationDatabase(TrellisConfig config) {
        String url = config.jdbcUrl().orElseThrow(() -> new IllegalStateException("no JDBC URL is configured"));
        return config.migrationUser().isPresent()
                ? new DatabaseConfig(url, config.migrationUser().get(), config.migrationPassword(), 1)
                : new DatabaseConfig(url, config.dbUser(), config.dbPassword(), 1);
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
            WorkflowServiceStubsOptions.Builder stubs = WorkflowServiceStubsOptions.newBuilder().setTarget(target);
            if (!embeddedTemporal()) {
                config.temporalAccess().configure(stubs); // TLS, mTLS, API key for a cluster
            }
            WorkflowServiceStubs service = WorkflowServiceStubs.newServiceStubs(stubs.build());
            closeables.push(() -> {
                service.shutdown();
                service.awaitTermination(5, TimeUnit.SECONDS);
            });
            WorkflowClientOptions.Builder options = WorkflowClientOptions.newBuilder().setNamespace(config.temporalNamespace());
            // The workers take the client's data converter, so they encrypt and decrypt with the same codec.
            config.payloadEncryption().ifPresent(codec -> options.setDataConverter(codec.dataConverter()));
            client = WorkflowClient.newInstance(service, options.build());
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
            return new DurableSchedules(client(), registry(), queries(), new io.trellis.metadata.EmbeddedScheduleStore(metadata));
        }
        ScheduleClientOptions.Builder options = ScheduleClientOptions.newBuilder().setNamespace(config.temporalNamespace());
        config.payloadEncryption().ifPresent(codec -> options.setDataConverter(codec.dataConverter()));
        return new TemporalSchedules(ScheduleClient.newInstance(client().getWorkflowServiceStubs(), options.build()), registry());
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
            // In cluster mode trellis.spark.master is where the retrain's and the scoring jobs are submitted; this session
            // (drift, retention) stays in-process.
            spark = SparkSessions.local("trellis", config.sparkSubmit().isPresent() ? "local[*]" : config.sparkMaster());
            // The lake on s3a://: S3A's endpoint, addressing, region and the SDK's default credential chain.
            config.lakeS3a().ifPresent(lake -> lake.applyTo(spark));
            if (ours) {
                SparkSession started = spark;
                closeables.push(started::stop);
            }
        }
        return spark;
    }

    /**
     * The OpenLineage emitter of this process's Spark steps: every event stored in PostgreSQL, and sent to
     * {@code trellis.openlineage.url} when set.
     */
    public synchronized OpenLineageEmitter openLineage() {
        if (openLineage == null) {
            openLineage = OpenLineageEmitter.storing(metadata.openLineage(), config.openLineageNamespace(), config.codeVersion(),
                    config.openLineageUrl().map(URI::create), config.openLineageApiKey());
        }
        return openLineage;
    }

    /** Recorded resource usage priced by the configured price sheet. */
    public CostReport costs() {
        return new CostReport(metadata.resourceUsage(), config.prices());
    }

    /** Where the Spark steps record their resource usage: PostgreSQL, or nowhere with accounting turned off. */
    private UsageSink usageSink() {
        return config.costAccounting() ? new PricedUsageSink(metadata.resourceUsage(), config.prices()) : UsageSink.NONE;
    }

    /**
     * The retrain's Spark steps: on this process's session (local mode), or spark-submitted to a cluster (cluster mode,
     * {@code trellis.spark.mode=cluster}); the same activity interface either way.
     */
    private SparkActivities retrainSparkActivities() {
        if (config.sparkSubmit().isPresent()) {
            SparkSubmitSettings submit = config.sparkSubmit().get().requireInstalled();
            log.info("Spark steps of retrains are submitted to {} ({} deploy mode) from {}", submit.master(), submit.deployMode().flag(),
                    submit.sparkHome());
            return new ClusterSparkActivitiesImpl(new SparkSubmitLauncher(submit), lake(), artifactStore(), usageSink());
        }
        return new SparkActivitiesImpl(spark(), lake(), artifactStore(), config.home().resolve("scratch"), openLineage(), usageSink());
    }

    /**
     * Batch scoring and shadow runs: on this process's session (local mode), or spark-submitted to the cluster like the
     * retrain's steps (cluster mode).
     */
    private ScoringActivities scoringActivities() {
        if (config.sparkSubmit().isPresent()) {
            SparkSubmitSettings submit = config.sparkSubmit().get().requireInstalled();
            log.info("Batch scoring and shadow runs are submitted to {} ({} deploy mode)", submit.master(), submit.deployMode().flag());
            return new ClusterScoringActivitiesImpl(new SparkSubmitLauncher(submit), lake(), artifactStore(), usageSink());
        }
        return new ScoringActivitiesImpl(spark(), lake(), artifactStore(), openLineage(), usageSink());
    }

    /**
     * Monitoring's reference profile and drift assessment: on this process's session (local mode), or spark-submitted to
     * the cluster like the retrain's steps (cluster mode, {@link DriftMain}).
     */
    private DriftActivities driftActivities() {
        if (config.sparkSubmit().isPresent()) {
            SparkSubmitSettings submit = config.sparkSubmit().get().requireInstalled();
            log.info("Monitoring's reference profiles and drift assessments are submitted to {} ({} deploy mode)", submit.master(),
                    submit.deployMode().flag());
            return new ClusterDriftActivitiesImpl(new SparkSubmitLauncher(submit), lake(), artifactStore(), usageSink());
        }
        return new DriftActivitiesImpl(spark(), lake(), artifactStore(), openLineage(), usageSink());
    }

    /** Starts the workers of the configured task queues ({@code trellis.worker.queues}) in this process (idempotent). */
    public synchronized void startWorkers() {
        if (workers != null) {
            return;
        }
        // On the embedded server client() starts the workers itself the first time: called first, it would register twice.
        WorkflowClient workflowClient = client();
        if (workers != null) {
            return;
        }
        WorkerFactory factory = WorkerFactory.newInstance(workflowClient, WorkerFactoryOptions.newBuilder()
                .setWorkerInterceptors(interceptors.toArray(WorkerInterceptor[]::new))
                .setWorkflowCacheSize(config.workerTuning().workflowCacheSize())
                .setMaxWorkflowThreadCount(config.workerTuning().workflowCacheSize())
                .build());
        // A worker of one queue builds only that queue's activities: an orchestration-only process never starts Spark.
        WorkerQueues queues = config.workerQueues();
        boolean light = queues.pollsOrchestration();
        boolean heavy = queues.pollsSpark();
        TrellisWorkers.register(factory, new TrellisWorkers.Activities(
                        light ? new RegistryActivitiesImpl(registry(), config.codeVersion()) : null,
                        light ? new PromotionActivitiesImpl(registry(), artifactStore()) : null,
                        heavy ? sparkActivities.apply(retrainSparkActivities()) : null,
                        heavy ? scoringActivities() : null,
                        light ? new MonitorActivitiesImpl(registry(), monitoring(), artifactStore()) : null,
                        heavy ? driftActivities() : null,
                        light ? new BudgetActivitiesImpl(registry(), metadata.resourceUsage(), config.prices(), java.time.Clock.systemUTC()) : null,
                        heavy ? new io.trellis.activities.retention.RetentionActivitiesImpl(registry(), metadata.retention(), artifactStore(), spark(),
                                config.retentionComplianceDays(), Duration.ofSeconds(config.retentionVacuumMarginSeconds()),
                                java.time.Clock.systemUTC()) : null),
                config.sparkConcurrency(), Duration.ofSeconds(config.stickyTimeoutSeconds()), config.workerTuning(), queues,
                // The history names the worker that took each task; a one-queue worker says which kind it is.
                queues == WorkerQueues.ALL ? null : java.lang.management.ManagementFactory.getRuntimeMXBean().getName() + " [" + queues.setting() + "]");
        factory.start();
        workers = factory;
        closeables.push(() -> drain(factory));
        log.info("workers started on {} polling {} (Spark concurrency {})",
                embeddedTemporal() ? "the embedded Temporal server" : config.temporalAddress().get(), queues.taskQueues(), config.sparkConcurrency());
    }

    /** The task queues this process's workers poll: none before {@link #startWorkers()}. */
    public synchronized List<String> pollingQueues() {
        if (workers == null) {
            return List.of();
        }
        WorkerFactory factory = workers;
        return config.workerQueues().taskQueues().stream().filter(q -> factory.tryGetWorker(q) != null).toList();
    }

    /** Whether this runtime started (or took over) a Spark session that is still running. */
    public synchronized boolean sparkSessionRunning() {
        return spark != null && !spark.sparkContext().isStopped();
    }

    /**
     * Graceful stop: no new tasks are polled, and the activities and workflow tasks already running get up to
     * {@code trellis.worker.shutdown.seconds} to finish and report; whatever still runs then is interrupted (Temporal
     * retries it elsewhere after its heartbeat or start-to-close timeout).
     */
    private void drain(WorkerFactory factory) throws InterruptedException {
        int seconds = config.workerShutdownSeconds();
        log.info("stopping workers: polling stopped, waiting up to {} s for running tasks to finish", seconds);
        factory.shutdown();
        factory.awaitTermination(seconds, TimeUnit.SECONDS);
        if (factory.isTerminated()) {
            log.info("workers stopped: every running task finished");
        } else {
            log.warn("workers stopped after {} s with tasks still running; they are interrupted and will be retried elsewhere", seconds);
            factory.shutdownNow();
            factory.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Whether this process's workers are started and not shutting down (the worker's liveness). */
    public synchronized boolean workersRunning() {
        return workers != null && workers.isStarted() && !workers.isShutdown() && !workers.isTerminated();
    }

    /**
     * Blocks until the process is asked to stop (SIGTERM, Ctrl-C); used by {@code trellis worker} and {@code trellis api},
     * which then close this runtime (draining the workers) and exit. SIGTERM and SIGINT are taken over rather than
     * left to start the JVM's shutdown: that would run Spark's and Hadoop's shutdown hooks at once, stopping the
     * Spark session under the very activities the drain lets finish. A second signal, or a drain that outlasts
     * {@code trellis.worker.shutdown.seconds} by 30 s, exits at once.
     */
    public void awaitShutdown() throws InterruptedException {
        CountDownLatch stopRequested = new CountDownLatch(1);
        long limitSeconds = config.workerShutdownSeconds() + 30L;
        SignalHandler onSignal = signal -> {
            if (stopRequested.getCount() == 0) {
                log.warn("second SIG{}: exiting without waiting for the drain", signal.getName());
                Runtime.getRuntime().halt(128 + signal.getNumber());
            }
            log.info("SIG{} received: shutting down", signal.getName());
            stopRequested.countDown();
            Thread watchdog = new Thread(() -> {
                try {
                    if (!closed.await(limitSeconds, TimeUnit.SECONDS)) {
                        log.warn("shutdown did not finish within {} s; exiting", limitSeconds);
                        System.exit(128 + signal.getNumber());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "trellis-shutdown-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        };
        Signal.handle(new Signal("TERM"), onSignal);
        Signal.handle(new Signal("INT"), onSignal);
        // Any other way the JVM starts shutting down (System.exit elsewhere, SIGHUP): still close before it halts.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopRequested.countDown();
            try {
                closed.await(limitSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "trellis-shutdown"));
        stopRequested.await();
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
        closed.countDown();
    }
}
