package io.trellis.workers;

import io.trellis.activities.artifacts.S3Settings;
import io.trellis.activities.spark.cluster.SparkSubmitSettings;
import io.trellis.workers.connect.DatabaseTls;
import io.trellis.workers.connect.PayloadEncryption;
import io.trellis.workers.connect.S3aLake;
import io.trellis.workers.connect.TemporalAccess;
import io.trellis.metadata.PriceSheet;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Trellis configuration: environment variables override a properties file, which overrides the embedded
 * defaults. Each setting has one name in both forms: {@code trellis.lake.root} in the file is
 * {@code TRELLIS_LAKE_ROOT} in the environment. Leaving the JDBC URL or the Temporal address unset selects
 * the embedded PostgreSQL / Temporal test server.
 */
public record TrellisConfig(
        Path home,
        String lakeRoot,
        Path artifactRoot,
        Optional<String> jdbcUrl,
        String dbUser,
        String dbPassword,
        int dbPoolSize,
        Optional<String> temporalAddress,
        String temporalNamespace,
        String sparkMaster,
        int sparkConcurrency,
        int stickyTimeoutSeconds,
        String codeVersion,
        String embeddedApprover,
        Optional<S3Settings> artifactS3,
        boolean dbMigrate,
        Optional<String> migrationUser,
        String migrationPassword,
        Optional<String> openLineageUrl,
        Optional<String> openLineageApiKey,
        String openLineageNamespace,
        Optional<S3aLake> lakeS3a,
        TemporalAccess temporalAccess,
        Optional<PayloadEncryption> payloadEncryption,
        DatabaseTls dbTls,
        int workerShutdownSeconds,
        WorkerTuning workerTuning,
        boolean costAccounting,
        PriceSheet prices,
        Optional<SparkSubmitSettings> sparkSubmit,
        int retentionComplianceDays,
        int retentionVacuumMarginSeconds,
        WorkerQueues workerQueues,
        java.util.List<String> codecCorsOrigins) {

    /** Every setting, its default, and what it means: printed by {@code trellis config} and the README. */
    public static final Map<String, String[]> SETTINGS = settings();

    private static Map<String, String[]> settings() {
        Map<String, String[]> m = new LinkedHashMap<>();
        m.put("trellis.home", new String[] {"./trellis-data", "Working folder of the embedded mode (lake, artifacts, PostgreSQL data)"});
        m.put("trellis.lake.root", new String[] {"<home>/lake", "Root of the Delta lake: a folder, file:/… or s3a://… URI"});
        m.put("trellis.artifact.root", new String[] {"<home>/artifacts", "Model-artifact store: a folder, or s3://bucket/prefix for S3 (fetched artifacts are then cached under <home>/artifact-cache)"});
        m.put("trellis.s3.endpoint", new String[] {"(AWS)", "S3 endpoint URL for S3-compatible stores, e.g. http://minio:9000"});
        m.put("trellis.s3.path.style", new String[] {"false", "Path-style bucket addressing (true for most S3-compatible stores)"});
        m.put("trellis.s3.region", new String[] {"us-east-1", "S3 region"});
        m.put("trellis.s3.sse", new String[] {"none", "Server-side encryption of artifacts: none, AES256, aws:kms or aws:kms:<key id>"});
        m.put("trellis.jdbc.url", new String[] {"(embedded PostgreSQL)", "JDBC URL of the metadata database, e.g. jdbc:postgresql://db:5432/trellis"});
        m.put("trellis.db.user", new String[] {"postgres", "Database user"});
        m.put("trellis.db.password", new String[] {"(empty)", "Database password"});
        m.put("trellis.db.pool.size", new String[] {"8", "Connection pool size"});
        m.put("trellis.temporal.address", new String[] {"(embedded test server)", "Temporal frontend host:port, e.g. temporal:7233"});
        m.put("trellis.temporal.namespace", new String[] {"default", "Temporal namespace"});
        m.put("trellis.spark.master", new String[] {"local[*]", "Spark master for the in-process session"});
        m.put("trellis.spark.concurrency", new String[] {"1", "Spark steps one worker runs at once (the trellis-spark task queue)"});
        m.put("trellis.worker.sticky.timeout.seconds", new String[] {"5", "How long a workflow task waits for the worker that has the run cached before any worker may take it; 0 turns sticky execution off (needed when workers restart against the SDK's test server, which never expires a dead worker's sticky queue)"});
        m.put("trellis.code.version", new String[] {"(git commit, else the build version)", "Code version recorded in lineage"});
        m.put("trellis.embedded.approver", new String[] {"embedded-approver", "Embedded mode only: the second identity that approves production in `trellis local`"});
        m.put("trellis.db.migrate", new String[] {"true", "Whether processes migrate the schema when they open the database; false for services running as the application role (a member of trellis_app), with `trellis migrate` run as the owner"});
        m.put("trellis.db.migration.user", new String[] {"(trellis.db.user)", "Database user that owns the schema and runs the migrations (`trellis migrate`, and start-up migrations when trellis.db.migrate is true)"});
        m.put("trellis.db.migration.password", new String[] {"(empty)", "Password of trellis.db.migration.user"});
        m.put("trellis.openlineage.url", new String[] {"(none: events are only stored)", "Base URL of an OpenLineage HTTP endpoint such as Marquez; each Spark step's run events are POSTed to <url>/api/v1/lineage"});
        m.put("trellis.openlineage.api.key", new String[] {"(none)", "API key sent as `Authorization: Bearer <key>` to the OpenLineage endpoint"});
        m.put("trellis.openlineage.namespace", new String[] {"trellis", "OpenLineage job namespace of the Spark steps' events"});
        m.put("trellis.temporal.tls", new String[] {"false", "TLS to the Temporal frontend with the JVM's trust store (on by itself when a certificate below is set)"});
        m.put("trellis.temporal.tls.cert", new String[] {"(none)", "Mutual TLS: this client's PEM certificate chain (file)"});
        m.put("trellis.temporal.tls.key", new String[] {"(none)", "Mutual TLS: the client certificate's PEM PKCS#8 private key (file; mount it from a secret)"});
        m.put("trellis.temporal.tls.ca", new String[] {"(JVM trust store)", "PEM CA bundle that signed the Temporal frontend's certificate (file)"});
        m.put("trellis.temporal.tls.dir", new String[] {"(none)", "Instead of the three files above: a folder holding tls.crt, tls.key and optionally ca.crt (a mounted Kubernetes TLS Secret)"});
        m.put("trellis.temporal.tls.server.name", new String[] {"(host of the address)", "Name the frontend's certificate is checked against, when it differs from the address"});
        m.put("trellis.temporal.api.key", new String[] {"(none)", "Temporal API key (e.g. Temporal Cloud), sent as a bearer token over TLS; secret, never printed"});
        m.put("trellis.temporal.codec.keys", new String[] {"(no encryption)", "Encrypt every workflow payload with AES-GCM: id:base64key[,id:base64key…], the first encrypts, all decrypt (rotation); secret, never printed"});
        m.put("trellis.db.sslmode", new String[] {"(driver default: prefer)", "TLS to an external PostgreSQL: disable, require, verify-ca or verify-full (verify-full when only a root certificate is set)"});
        m.put("trellis.db.sslrootcert", new String[] {"(none)", "PEM root certificate that signed the PostgreSQL server's certificate (file)"});
        m.put("trellis.worker.cache.size", new String[] {"600", "Workflow runs one worker process keeps cached, and its workflow thread cap (each cached run waiting on a timer or approval holds a thread)"});
        m.put("trellis.worker.pollers", new String[] {"5", "Pollers per task queue, for workflow and for activity tasks"});
        m.put("trellis.worker.orchestration.concurrency", new String[] {"200", "Activities and workflow tasks one worker runs at once on the trellis-orchestration queue"});
        m.put("trellis.worker.shutdown.seconds", new String[] {"60", "On SIGTERM a worker stops polling and lets running activities finish for up to this long before it exits"});
        m.put("trellis.costs.accounting", new String[] {"true", "Record what every Spark step used (a Spark listener; per activity attempt, in PostgreSQL)"});
        m.put("trellis.costs.currency", new String[] {"USD", "Currency label of the price sheet"});
        m.put("trellis.costs.price.core.hour", new String[] {"0.05", "Price per core-hour of executor run time"});
        m.put("trellis.costs.price.memory.gb.hour", new String[] {"0.005", "Price per GiB-hour of execution memory held by tasks"});
        m.put("trellis.costs.price.storage.gb.month", new String[] {"0.023", "Price per GiB stored per month (charged once for a month of what a step wrote)"});
        m.put("trellis.costs.price.scan.gb", new String[] {"0.005", "Price per GiB read from storage"});
        m.put("trellis.spark.mode", new String[] {"local", "local: the retrain's Spark steps run on the worker's own session (trellis.spark.master, e.g. local[*]); cluster: each is spark-submitted (the shaded spark-jobs jar) to trellis.spark.master, a spark://, k8s:// or yarn master"});
        m.put("trellis.spark.home", new String[] {"(SPARK_HOME)", "Cluster mode: the Spark 4.2 installation whose bin/spark-submit submits the jobs"});
        m.put("trellis.spark.jobs.jar", new String[] {"(none; required in cluster mode)", "Cluster mode: the shaded application jar, trellis-spark-jobs-<version>-spark-submit.jar"});
        m.put("trellis.spark.deploy.mode", new String[] {"client", "Cluster mode: client (the driver is a child process of the worker; stages and tasks are read from its REST API) or cluster (the driver runs on the cluster)"});
        m.put("trellis.spark.executor.memory", new String[] {"1g", "Cluster mode: memory of each executor"});
        m.put("trellis.spark.executor.cores", new String[] {"1", "Cluster mode: cores of each executor"});
        m.put("trellis.spark.executor.instances", new String[] {"(cluster default)", "Cluster mode: executors per job (on spark:// it caps the job's cores at instances x cores)"});
        m.put("trellis.spark.driver.memory", new String[] {"1g", "Cluster mode: memory of each job's driver"});
        m.put("trellis.spark.driver.host", new String[] {"(SPARK_LOCAL_IP, else this host's address)", "Cluster mode, client deploy mode: the address executors reach the driver at (a pod IP on Kubernetes)"});
        m.put("trellis.spark.conf", new String[] {"(none)", "Cluster mode: extra spark-submit settings as spark.key=value pairs separated by commas (a Kubernetes image, a YARN queue…)"});
        m.put("trellis.spark.work.dir", new String[] {"<home>/spark-submit", "Cluster mode: per-attempt folders for the specs handed to the jobs, their reports and logs and the trained models; in cluster deploy mode a path the drivers see too"});
        m.put("trellis.retention.compliance.days", new String[] {"365", "Retention never purges a model version or dataset version younger than this many days (the compliance period)"});
        m.put("trellis.retention.vacuum.margin.seconds", new String[] {"600", "Safety margin of a retention VACUUM's horizon: tombstones this much younger than the first removal of a pinned version's files stay too"});
        m.put("trellis.worker.queues", new String[] {"orchestration,spark", "Task queues this worker process polls: orchestration,spark (both), orchestration (workflows and light steps; no Spark session) or spark (Spark steps only), for separate deployments per queue; one queue alone needs trellis.temporal.address"});
        m.put("trellis.temporal.codec.cors.origins", new String[] {"(none)", "Origins (scheme://host[:port], comma-separated) of the Temporal UI allowed to call the API's codec endpoints /codec/decode and /codec/encode from the browser"});
        return m;
    }

    public static TrellisConfig load(Optional<Path> file, Map<String, String> env) {
        Properties props = new Properties();
        if (file.isPresent()) {
            try (Reader r = Files.newBufferedReader(file.get())) {
                props.load(r);
            } catch (IOException e) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "cannot read config file " + file.get() + ": " + e.getMessage());
            }
            for (String k : props.stringPropertyNames()) {
                if (!SETTINGS.containsKey(k)) {
                    throw new TrellisException(ErrorCode.INVALID_REQUEST, "unknown setting '" + k + "' in " + file.get()
                            + "; known settings: " + String.join(", ", SETTINGS.keySet()));
                }
            }
        }
        Lookup in = new Lookup(props, env);
        Path home = Path.of(in.get("trellis.home").orElse("./trellis-data")).toAbsolutePath().normalize();
        String lake = in.get("trellis.lake.root").orElse(home.resolve("lake").toString());
        String artifactRoot = in.get("trellis.artifact.root").orElse(home.resolve("artifacts").toString());
        Optional<S3Settings> s3 = Optional.empty();
        Path artifacts;
        if (S3Settings.isS3Uri(artifactRoot)) {
            s3 = Optional.of(S3Settings.parse(artifactRoot, in.get("trellis.s3.endpoint"), in.bool("trellis.s3.path.style", false),
                    in.get("trellis.s3.region").orElse("us-east-1"), in.get("trellis.s3.sse").orElse("none")));
            artifacts = home.resolve("artifact-cache");
        } else {
            artifacts = Path.of(artifactRoot).toAbsolutePath();
        }
        Optional<S3aLake> lakeS3a = S3aLake.isS3a(lake)
                ? Optional.of(S3aLake.parse(lake, in.get("trellis.s3.endpoint"), in.bool("trellis.s3.path.style", false),
                        in.get("trellis.s3.region").orElse("us-east-1")))
                : Optional.empty();
        // A folder in the layout of a Kubernetes TLS Secret (tls.crt, tls.key, ca.crt) stands for the three files.
        Optional<Path> tlsDir = in.get("trellis.temporal.tls.dir").map(Path::of);
        Optional<Path> tlsCa = in.get("trellis.temporal.tls.ca").map(Path::of)
                .or(() -> tlsDir.map(d -> d.resolve("ca.crt")).filter(Files::exists));
        TemporalAccess temporalAccess = TemporalAccess.of(in.bool("trellis.temporal.tls", false),
                in.get("trellis.temporal.tls.cert").map(Path::of).or(() -> tlsDir.map(d -> d.resolve("tls.crt"))),
                in.get("trellis.temporal.tls.key").map(Path::of).or(() -> tlsDir.map(d -> d.resolve("tls.key"))),
                tlsCa, in.get("trellis.temporal.tls.server.name"), in.get("trellis.temporal.api.key"));
        Optional<PayloadEncryption> payloadEncryption = in.get("trellis.temporal.codec.keys").map(PayloadEncryption::parse);
        DatabaseTls dbTls = DatabaseTls.of(in.get("trellis.db.sslmode"), in.get("trellis.db.sslrootcert").map(Path::of));
        return new TrellisConfig(home, lake, artifacts,
                in.get("trellis.jdbc.url").map(dbTls::applyTo),
                in.get("trellis.db.user").orElse("postgres"),
                in.get("trellis.db.password").orElse(""),
                in.integer("trellis.db.pool.size", 8),
                in.get("trellis.temporal.address"),
                in.get("trellis.temporal.namespace").orElse("default"),
                in.get("trellis.spark.master").orElse("local[*]"),
                in.integer("trellis.spark.concurrency", 1),
                in.nonNegative("trellis.worker.sticky.timeout.seconds", 5),
                in.get("trellis.code.version").orElseGet(CodeVersion::detect),
                in.get("trellis.embedded.approver").orElse("embedded-approver"),
                s3,
                in.bool("trellis.db.migrate", true),
                in.get("trellis.db.migration.user"),
                in.get("trellis.db.migration.password").orElse(""),
                in.url("trellis.openlineage.url"),
                in.get("trellis.openlineage.api.key"),
                in.get("trellis.openlineage.namespace").orElse("trellis"),
                lakeS3a,
                temporalAccess,
                payloadEncryption,
                dbTls,
                in.nonNegative("trellis.worker.shutdown.seconds", 60),
                new WorkerTuning(in.integer("trellis.worker.cache.size", WorkerTuning.SDK_DEFAULTS.workflowCacheSize()),
                        in.integer("trellis.worker.pollers", WorkerTuning.SDK_DEFAULTS.pollers()),
                        in.integer("trellis.worker.orchestration.concurrency", WorkerTuning.SDK_DEFAULTS.orchestrationConcurrency())),
                in.bool("trellis.costs.accounting", true),
                new PriceSheet(in.get("trellis.costs.currency").orElse(PriceSheet.DEFAULT.currency()),
                        in.price("trellis.costs.price.core.hour", PriceSheet.DEFAULT.perCoreHour()),
                        in.price("trellis.costs.price.memory.gb.hour", PriceSheet.DEFAULT.perGbHour()),
                        in.price("trellis.costs.price.storage.gb.month", PriceSheet.DEFAULT.perGbMonth()),
                        in.price("trellis.costs.price.scan.gb", PriceSheet.DEFAULT.perGbScanned())),
                sparkSubmit(in, home, lakeS3a),
                in.nonNegative("trellis.retention.compliance.days", 365),
                in.nonNegative("trellis.retention.vacuum.margin.seconds", 600),
                workerQueues(in),
                corsOrigins(in));
    }

    /** {@code trellis.worker.queues}; one queue alone needs a Temporal cluster that other workers also reach. */
    private static WorkerQueues workerQueues(Lookup in) {
        WorkerQueues queues = in.get(WorkerQueues.SETTING).map(WorkerQueues::parse).orElse(WorkerQueues.ALL);
        if (queues != WorkerQueues.ALL && in.get("trellis.temporal.address").isEmpty()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, WorkerQueues.SETTING + "=" + queues.setting() + " needs"
                    + " trellis.temporal.address (TRELLIS_TEMPORAL_ADDRESS): with the embedded Temporal server this process is the only"
                    + " worker, so it must poll both queues (orchestration,spark)");
        }
        return queues;
    }

    /** {@code trellis.temporal.codec.cors.origins}: exact browser origins, no wildcard (the UI sends credentials). */
    private static java.util.List<String> corsOrigins(Lookup in) {
        String key = "trellis.temporal.codec.cors.origins";
        java.util.List<String> origins = new java.util.ArrayList<>();
        for (String part : in.get(key).orElse("").split(",")) {
            String origin = part.trim();
            if (origin.isEmpty()) {
                continue;
            }
            java.net.URI uri;
            try {
                uri = new java.net.URI(origin);
            } catch (java.net.URISyntaxException e) {
                uri = null;
            }
            boolean ok = uri != null && ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
                    && uri.getRawPath().isEmpty() && uri.getRawQuery() == null && uri.getRawFragment() == null && uri.getRawUserInfo() == null;
            if (!ok) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, key + " (" + envName(key) + ") must list origins such as"
                        + " https://temporal-ui.example.com or http://localhost:8233 (scheme, host and optional port; no path, no '*'),"
                        + " got '" + origin + "'");
            }
            origins.add(origin);
        }
        return java.util.List.copyOf(origins);
    }

    /** The spark-submit settings in cluster mode; empty in local mode. */
    private static Optional<SparkSubmitSettings> sparkSubmit(Lookup in, Path home, Optional<S3aLake> lakeS3a) {
        String mode = in.get("trellis.spark.mode").orElse("local").toLowerCase(Locale.ROOT);
        if (mode.equals("local")) {
            return Optional.empty();
        }
        if (!mode.equals("cluster")) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.mode (TRELLIS_SPARK_MODE) must be local or cluster, got '"
                    + mode + "'");
        }
        Path sparkHome = in.get("trellis.spark.home").or(() -> Optional.ofNullable(in.env().get("SPARK_HOME"))).map(Path::of)
                .orElseThrow(() -> new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.mode=cluster needs trellis.spark.home"
                        + " (TRELLIS_SPARK_HOME) or SPARK_HOME: the Spark installation whose bin/spark-submit submits the jobs"));
        Path jar = in.get("trellis.spark.jobs.jar").map(Path::of)
                .orElseThrow(() -> new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.spark.mode=cluster needs trellis.spark.jobs.jar"
                        + " (TRELLIS_SPARK_JOBS_JAR): the shaded trellis-spark-jobs-<version>-spark-submit.jar"));
        Map<String, String> conf = new LinkedHashMap<>();
        // The lake on s3a://: the jobs' drivers and executors get the same S3A settings as the worker's session.
        lakeS3a.ifPresent(l -> l.hadoopOptions().forEach((k, v) -> conf.put("spark.hadoop." + k, v)));
        conf.putAll(SparkSubmitSettings.parseConf(in.get("trellis.spark.conf").orElse(null)));
        Optional<Integer> instances = in.get("trellis.spark.executor.instances").isPresent()
                ? Optional.of(in.integer("trellis.spark.executor.instances", 1)) : Optional.empty();
        String driverHost = in.get("trellis.spark.driver.host").or(() -> Optional.ofNullable(in.env().get("SPARK_LOCAL_IP")))
                .orElseGet(TrellisConfig::localAddress);
        return Optional.of(new SparkSubmitSettings(sparkHome.toAbsolutePath(), in.get("trellis.spark.master").orElse("local[*]"),
                SparkSubmitSettings.DeployMode.parse(in.get("trellis.spark.deploy.mode").orElse("client")), jar.toAbsolutePath(),
                in.get("trellis.spark.executor.memory").orElse("1g"), in.integer("trellis.spark.executor.cores", 1), instances,
                in.get("trellis.spark.driver.memory").orElse("1g"), driverHost, conf,
                in.get("trellis.spark.work.dir").map(Path::of).orElse(home.resolve("spark-submit")).toAbsolutePath()));
    }

    private static String localAddress() {
        try {
            return java.net.InetAddress.getLocalHost().getHostAddress();
        } catch (java.net.UnknownHostException e) {
            return "127.0.0.1";
        }
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "TrellisConfig[home=" + home + ", lakeRoot=" + lakeRoot + ", artifactRoot=" + artifactRoot
                + ", jdbcUrl=" + jdbcUrl.orElse("(embedded)") + ", dbUser=" + dbUser + ", dbPassword=" + (dbPassword.isEmpty() ? "(empty)" : "****")
                + ", dbPoolSize=" + dbPoolSize + ", temporalAddress=" + temporalAddress.orElse("(embedded)")
                + ", temporalNamespace=" + temporalNamespace + ", sparkMaster=" + sparkMaster
                + ", sparkConcurrency=" + sparkConcurrency + ", stickyTimeoutSeconds=" + stickyTimeoutSeconds
                + ", codeVersion=" + codeVersion
                + ", embeddedApprover=" + embeddedApprover
                + artifactS3.map(s -> ", artifactS3=s3://" + s.bucket() + "/" + s.prefix() + " endpoint=" + s.endpoint().map(Object::toString).orElse("(AWS)")
                        + " pathStyle=" + s.pathStyle() + " region=" + s.region() + " sse=" + s.sse()).orElse("")
                + ", dbMigrate=" + dbMigrate + ", migrationUser=" + migrationUser.orElse("(db user)")
                + ", migrationPassword=" + (migrationPassword.isEmpty() ? "(empty)" : "****")
                + ", openLineageUrl=" + openLineageUrl.orElse("(none)") + ", openLineageApiKey=" + (openLineageApiKey.isEmpty() ? "(none)" : "****")
                + ", openLineageNamespace=" + openLineageNamespace
                + lakeS3a.map(l -> ", lakeS3a=" + l).orElse("")
                + ", temporalAccess=" + temporalAccess
                + payloadEncryption.map(p -> ", payloadEncryption=" + p).orElse("")
                + ", dbSslMode=" + dbTls.sslMode().orElse("(driver default)")
                + ", workerShutdownSeconds=" + workerShutdownSeconds + ", workerTuning=" + workerTuning
                + ", costAccounting=" + costAccounting + ", prices=" + prices
                + sparkSubmit.map(s -> ", sparkMode=cluster, sparkSubmit=" + s.master() + " " + s.deployMode().flag() + " home=" + s.sparkHome()
                        + " jar=" + s.jobsJar() + " executor=" + s.executorCores() + "c/" + s.executorMemory()
                        + s.executorInstances().map(n -> " x" + n).orElse("")).orElse(", sparkMode=local")
                + ", retentionComplianceDays=" + retentionComplianceDays + ", retentionVacuumMarginSeconds=" + retentionVacuumMarginSeconds
                + ", workerQueues=" + workerQueues.setting() + ", codecCorsOrigins=" + codecCorsOrigins + "]";
    }

    public static TrellisConfig fromEnvironment() {
        String file = System.getenv("TRELLIS_CONFIG");
        return load(Optional.ofNullable(file).map(Path::of), System.getenv());
    }

    /** Same config with another home, for tests and the benchmark (lake and artifacts follow the home). */
    public static TrellisConfig embeddedAt(Path home) {
        return load(Optional.empty(), Map.of("TRELLIS_HOME", home.toString()));
    }

    public static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    private record Lookup(Properties props, Map<String, String> env) {
        Optional<String> get(String key) {
            String v = env.get(envName(key));
            if (v == null || v.isBlank()) {
                v = props.getProperty(key);
            }
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
        }

        boolean bool(String key, boolean dflt) {
            Optional<String> v = get(key);
            if (v.isEmpty()) {
                return dflt;
            }
            return switch (v.get().toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new TrellisException(ErrorCode.INVALID_REQUEST, key + " (" + envName(key) + ") must be true or false, got '" + v.get() + "'");
            };
        }

        Optional<String> url(String key) {
            Optional<String> v = get(key);
            if (v.isPresent()) {
                try {
                    java.net.URI uri = new java.net.URI(v.get());
                    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                        throw new java.net.URISyntaxException(v.get(), "not an http(s) URL with a host");
                    }
                } catch (java.net.URISyntaxException e) {
                    throw new TrellisException(ErrorCode.INVALID_REQUEST, key + " (" + envName(key) + ") must be an http:// or https:// URL, got '"
                            + v.get() + "'");
                }
            }
            return v;
        }

        double price(String key, double dflt) {
            Optional<String> v = get(key);
            if (v.isEmpty()) {
                return dflt;
            }
            try {
                double d = Double.parseDouble(v.get());
                if (!(d >= 0) || Double.isInfinite(d)) {
                    throw new NumberFormatException();
                }
                return d;
            } catch (NumberFormatException e) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, key + " (" + envName(key) + ") must be a price, a number 0 or more"
                        + " such as 0.05, got '" + v.get() + "'");
            }
        }

        int integer(String key, int dflt) {
            return atLeast(key, dflt, 1, "a positive whole number");
        }

        int nonNegative(String key, int dflt) {
            return atLeast(key, dflt, 0, "a whole number, 0 or more");
        }

        private int atLeast(String key, int dflt, int min, String what) {
            Optional<String> v = get(key);
            if (v.isEmpty()) {
                return dflt;
            }
            try {
                int n = Integer.parseInt(v.get());
                if (n < min) {
                    throw new NumberFormatException();
                }
                return n;
            } catch (NumberFormatException e) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, key + " (" + envName(key) + ") must be " + what + ", got '" + v.get() + "'");
            }
        }
    }
}
