package io.trellis.workers;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.activities.registry.RegistryActivitiesImpl;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.Registry;
import io.trellis.spark.Lake;
import io.trellis.spark.SparkSessions;
import io.trellis.workers.embedded.EmbeddedPostgresServer;
import io.trellis.workers.embedded.EmbeddedTemporalServer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import io.trellis.workflows.activities.SparkActivities;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that builds connections from configuration: the metadata store (embedded PostgreSQL unless a
 * JDBC URL is set), Temporal (the embedded test server unless an address is set), the Spark session, the lake
 * and the artifact store, and the workers. With the embedded Temporal server nothing outside this process can
 * run the workflows, so the workers start here too.
 */
public final class TrellisRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TrellisRuntime.class);

    private final TrellisConfig config;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final MetadataStore metadata;
    private final WorkflowServiceStubs service;
    private final WorkflowClient client;
    private final boolean embeddedTemporal;
    private SparkSession spark;
    private WorkerFactory workers;
    private UnaryOperator<SparkActivities> sparkActivities = UnaryOperator.identity();

    private TrellisRuntime(TrellisConfig config) {
        this.config = config;
        try {
            DatabaseConfig db;
            if (config.jdbcUrl().isPresent()) {
                db = new DatabaseConfig(config.jdbcUrl().get(), config.dbUser(), config.dbPassword(), config.dbPoolSize());
            } else {
                EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(config.home().resolve("postgres"));
                closeables.add(pg);
                db = pg.databaseConfig(config.dbPoolSize());
            }
            metadata = MetadataStore.open(db);
            closeables.add(0, metadata);

            String target;
            if (config.temporalAddress().isPresent()) {
                target = config.temporalAddress().get();
                embeddedTemporal = false;
            } else {
                EmbeddedTemporalServer server = EmbeddedTemporalServer.start(0);
                closeables.add(server);
                target = server.target();
                embeddedTemporal = true;
            }
            service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(target).build());
            closeables.add(0, () -> {
                service.shutdown();
                service.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
            });
            client = WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder()
                    .setNamespace(config.temporalNamespace()).build());
        } catch (RuntimeException e) {
            closeAll();
            throw e;
        }
    }

    /** Connects to the configured services, starting embedded ones for what is not configured. */
    public static TrellisRuntime open(TrellisConfig config) {
        return open(config, UnaryOperator.identity());
    }

    /**
     * As {@link #open(TrellisConfig)}, with the Spark activities wrapped before they are registered (tests use
     * it to inject faults such as a worker dying right after a Delta commit).
     */
    public static TrellisRuntime open(TrellisConfig config, UnaryOperator<SparkActivities> sparkActivities) {
        TrellisRuntime runtime = new TrellisRuntime(config);
        runtime.sparkActivities = sparkActivities;
        if (runtime.embeddedTemporal) {
            runtime.startWorkers();
        }
        return runtime;
    }

    public TrellisConfig config() {
        return config;
    }

    public Registry registry() {
        return metadata.registry();
    }

    public WorkflowClient client() {
        return client;
    }

    public boolean embeddedTemporal() {
        return embeddedTemporal;
    }

    public Lake lake() {
        return new Lake(config.lakeRoot());
    }

    public ArtifactStore artifactStore() {
        return new LocalArtifactStore(config.artifactRoot());
    }

    /** The shared Spark session, started on first use (it costs seconds). */
    public synchronized SparkSession spark() {
        if (spark == null) {
            // A session this process already had (a test's shared one) is reused and left running.
            boolean ours = SparkSession.getDefaultSession().isEmpty();
            spark = SparkSessions.local("trellis", config.sparkMaster());
            if (ours) {
                closeables.add(0, () -> spark.stop());
            }
        }
        return spark;
    }

    /** Starts the orchestration and Spark workers in this process (idempotent). */
    public synchronized void startWorkers() {
        if (workers != null) {
            return;
        }
        workers = WorkerFactory.newInstance(client);
        TrellisWorkers.register(workers,
                new RegistryActivitiesImpl(registry(), config.codeVersion()),
                sparkActivities.apply(new SparkActivitiesImpl(spark(), lake(), artifactStore(), config.home().resolve("scratch"))),
                config.sparkConcurrency());
        workers.start();
        closeables.add(0, () -> {
            workers.shutdown();
            workers.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        });
        log.info("workers started on {} (Spark concurrency {})", embeddedTemporal ? "the embedded Temporal server" : config.temporalAddress().get(),
                config.sparkConcurrency());
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

    private void closeAll() {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("while shutting down: {}", e.toString());
            }
        }
        closeables.clear();
    }
}
