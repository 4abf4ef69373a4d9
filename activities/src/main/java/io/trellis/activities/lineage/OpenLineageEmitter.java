package io.trellis.activities.lineage;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.openlineage.client.OpenLineage;
import io.openlineage.client.OpenLineage.RunEvent.EventType;
import io.openlineage.client.OpenLineageClientUtils;
import io.trellis.metadata.OpenLineageStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits the OpenLineage run events of the Spark steps Trellis runs, built with the OpenLineage Java client's model
 * ({@link OpenLineage}): START when a step begins, then COMPLETE, FAIL (with the error message facet) or ABORT (the
 * activity was cancelled). Every event is stored append-only in PostgreSQL ({@link OpenLineageStore}) and, when an
 * endpoint is configured, POSTed to {@code <url>/api/v1/lineage} (Marquez' and the client's HTTP transport's path),
 * with {@code Authorization: Bearer <api key>} when a key is set. A delivery that fails (endpoint down, non-2xx
 * answer) is logged and recorded as FAILED; it never fails the step. Storing and sending run on one background thread in
 * event order; a step waits for its event at most {@value #MAX_WAIT_SECONDS} s, so a hung database or endpoint cannot
 * stall it past its heartbeat timeout.
 *
 * <p>Identities. The job is {@code <namespace>} / {@code <model>.<ActivityType>} (e.g. {@code customer-churn.SparkTrain}).
 * One OpenLineage run per <em>activity attempt</em>: its run ID is a name-based UUID of the workflow ID, workflow run
 * ID, activity ID and attempt number, so re-emitting for the same attempt is idempotent (the store keeps one event per
 * run and type) while a retry is a run of its own whose failed predecessor keeps its FAIL (or, when the worker died,
 * only its START). The parent run facet names the workflow run: job {@code <model>.<WorkflowType>}, run ID a
 * name-based UUID of the workflow ID and run ID, so all attempts of all steps of one retrain share one parent.
 *
 * <p>Datasets. A Delta table is named by its location: {@code file} and the absolute path for local paths, else the
 * URI's {@code scheme://authority} and path. Its Delta version is the standard {@code version} dataset facet and, with
 * the table path exactly as the lineage tables record it and the row count, the custom {@code trellis_delta} facet. A
 * model artifact is namespace {@code trellis-artifacts}, its URI as name, its SHA-256 as {@code version}.
 */
public final class OpenLineageEmitter {
    private static final Logger log = LoggerFactory.getLogger(OpenLineageEmitter.class);
    /** The custom dataset facet with the Delta table path and version as lineage records them. */
    public static final String DELTA_FACET = "trellis_delta";
    public static final URI DELTA_FACET_SCHEMA = URI.create("urn:trellis:openlineage:facets:TrellisDeltaDatasetFacet:1");
    public static final String ARTIFACT_NAMESPACE = "trellis-artifacts";
    public static final String LINEAGE_PATH = "/api/v1/lineage";

    private final OpenLineageStore store;
    private final String namespace;
    private final URI producer;
    private final Optional<URI> endpoint;
    private final Optional<String> apiKey;
    private final OpenLineage ol;
    private final HttpClient http;
    /** Stores and sends events in order, off the step's thread (see {@link Step}). */
    private final ExecutorService sender;
    /** The longest a step waits for its event to be stored and sent. */
    static final int MAX_WAIT_SECONDS = 5;
    static final Duration MAX_WAIT = Duration.ofSeconds(MAX_WAIT_SECONDS);

    private OpenLineageEmitter(OpenLineageStore store, String namespace, URI producer, Optional<URI> endpoint, Optional<String> apiKey) {
        this.store = store;
        this.namespace = namespace;
        this.producer = producer;
        this.endpoint = endpoint;
        this.apiKey = apiKey;
        this.ol = new OpenLineage(producer);
        this.http = endpoint.isEmpty() ? null : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        this.sender = store == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "trellis-openlineage");
            t.setDaemon(true);
            return t;
        });
    }

    /** Emits nothing (tests of the Spark activities that do not look at lineage events). */
    public static OpenLineageEmitter disabled() {
        return new OpenLineageEmitter(null, "trellis", URI.create("urn:trellis"), Optional.empty(), Optional.empty());
    }

    /**
     * Stores every event in {@code store} and, when {@code url} is present, also sends it there.
     *
     * @param codeVersion the Trellis code version, part of the events' {@code producer} URI
     */
    public static OpenLineageEmitter storing(OpenLineageStore store, String namespace, String codeVersion, Optional<URI> url,
                                             Optional<String> apiKey) {
        String base = url.map(URI::toString).map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u).orElse(null);
        return new OpenLineageEmitter(store, namespace, producerUri(codeVersion),
                Optional.ofNullable(base).map(b -> URI.create(b + LINEAGE_PATH)), apiKey);
    }

    static URI producerUri(String codeVersion) {
        return URI.create("urn:trellis:" + codeVersion.replaceAll("[^A-Za-z0-9._~-]", "-"));
    }

    /** The run ID of one activity attempt. */
    public static UUID attemptRunId(String workflowId, String workflowRunId, String activityId, int attempt) {
        return UUID.nameUUIDFromBytes(("trellis/openlineage/" + workflowId + "/" + workflowRunId + "/" + activityId + "/attempt-" + attempt)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** The run ID of a workflow run: the parent of its steps' runs. */
    public static UUID workflowRunUuid(String workflowId, String workflowRunId) {
        return UUID.nameUUIDFromBytes(("trellis/openlineage/" + workflowId + "/" + workflowRunId).getBytes(StandardCharsets.UTF_8));
    }

    public static String jobName(String modelName, String activityType) {
        return modelName + "." + activityType;
    }

    /** Which activity attempt a step runs in. */
    public record Attempt(String workflowId, String workflowRunId, String workflowType, String activityId, String activityType,
                          int attempt) {}

    /** Emits START for a step of Trellis run {@code runKey} and returns the handle that ends it. */
    public Step start(Attempt attempt, String runKey, String modelName, List<LineageDataset> inputs) {
        Step step = new Step(attempt, runKey, modelName);
        step.emit(EventType.START, inputs, List.of(), null);
        return step;
    }

    /** One running step: exactly one of {@link #complete}, {@link #fail} or {@link #abort} ends it. */
    public final class Step {
        private final Attempt attempt;
        private final String runKey;
        private final String modelName;
        private final UUID runId;

        private Step(Attempt attempt, String runKey, String modelName) {
            this.attempt = attempt;
            this.runKey = runKey;
            this.modelName = modelName;
            this.runId = attemptRunId(attempt.workflowId(), attempt.workflowRunId(), attempt.activityId(), attempt.attempt());
        }

        public UUID runId() {
            return runId;
        }

        public void complete(List<LineageDataset> inputs, List<LineageDataset> outputs) {
            emit(EventType.COMPLETE, inputs, outputs, null);
        }

        public void fail(Throwable error, List<LineageDataset> inputs) {
            emit(EventType.FAIL, inputs, List.of(), error);
        }

        public void abort(List<LineageDataset> inputs) {
            emit(EventType.ABORT, inputs, List.of(), null);
        }

        private void emit(EventType type, List<LineageDataset> inputs, List<LineageDataset> outputs, Throwable error) {
            if (store == null) {
                return;
            }
            OpenLineageStore.NewEvent stored;
            try {
                OpenLineage.RunEvent event = event(type, inputs, outputs, error);
                stored = new OpenLineageStore.NewEvent(runKey, type.name(), event.getEventTime().toInstant(), runId, namespace,
                        event.getJob().getName(), event.getRun().getFacets().getParent().getRun().getRunId(),
                        OpenLineageClientUtils.toJson(event));
            } catch (RuntimeException e) {
                // Lineage must never fail the step it describes; the missing event shows in `trellis lineage events`.
                log.warn("OpenLineage {} event of {} ({}) not built: {}", type, attempt.activityType(), runKey, e.toString());
                return;
            }
            // Stored and sent on one thread, in order; the step waits a bounded time, so a database or endpoint that
            // hangs delays it by at most MAX_WAIT (far below the Spark steps' 30 s heartbeat timeout).
            Future<?> recorded = sender.submit(() -> record(stored));
            try {
                recorded.get(MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException slow) {
                log.warn("OpenLineage {} event of {} ({}) is taking over {} s to record; the step goes on, it is recorded in the background",
                        type, attempt.activityType(), runKey, MAX_WAIT.toSeconds());
            } catch (ExecutionException e) {
                log.warn("OpenLineage {} event of {} ({}) not recorded: {}", type, attempt.activityType(), runKey, e.getCause().toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private OpenLineage.RunEvent event(EventType type, List<LineageDataset> inputs, List<LineageDataset> outputs, Throwable error) {
            OpenLineage.RunFacetsBuilder runFacets = ol.newRunFacetsBuilder()
                    .parent(ol.newParentRunFacetBuilder()
                            .run(ol.newParentRunFacetRunBuilder().runId(workflowRunUuid(attempt.workflowId(), attempt.workflowRunId())).build())
                            .job(ol.newParentRunFacetJobBuilder().namespace(namespace)
                                    .name(jobName(modelName, attempt.workflowType())).build())
                            .build())
                    .processing_engine(ol.newProcessingEngineRunFacet(org.apache.spark.package$.MODULE$.SPARK_VERSION(), "spark", null));
            if (error != null) {
                StringWriter trace = new StringWriter();
                error.printStackTrace(new PrintWriter(trace));
                runFacets.errorMessage(ol.newErrorMessageRunFacet(String.valueOf(error.getMessage()), "Java", trace.toString()));
            }
            return ol.newRunEventBuilder()
                    .eventTime(ZonedDateTime.now(ZoneOffset.UTC))
                    .eventType(type)
                    .run(ol.newRun(runId, runFacets.build()))
                    .job(ol.newJobBuilder().namespace(namespace).name(jobName(modelName, attempt.activityType()))
                            .facets(ol.newJobFacetsBuilder().jobType(ol.newJobTypeJobFacet("BATCH", "TRELLIS", "SPARK_STEP", null)).build())
                            .build())
                    .inputs(inputs.stream().map(d -> ol.newInputDatasetBuilder().namespace(datasetNamespace(d)).name(datasetName(d))
                            .facets(datasetFacets(d)).build()).toList())
                    .outputs(outputs.stream().map(d -> ol.newOutputDatasetBuilder().namespace(datasetNamespace(d)).name(datasetName(d))
                            .facets(datasetFacets(d)).build()).toList())
                    .build();
        }
    }

    private OpenLineage.DatasetFacets datasetFacets(LineageDataset d) {
        OpenLineage.DatasetFacetsBuilder facets = ol.newDatasetFacetsBuilder();
        if (d.version() != null) {
            facets.version(ol.newDatasetVersionDatasetFacet(d.version()));
        }
        if (d.kind() == LineageDataset.Kind.DELTA_TABLE) {
            Map<String, Object> values = new LinkedHashMap<>();
            values.put("tablePath", d.location());
            if (d.version() != null) {
                values.put("deltaVersion", Long.parseLong(d.version()));
            }
            if (d.rowCount() != null) {
                values.put("rowCount", d.rowCount());
            }
            facets.put(DELTA_FACET, new DeltaFacet(producer, values));
        }
        return facets.build();
    }

    /** The OpenLineage namespace of a dataset: {@code file} for local paths, else the URI's scheme and authority. */
    public static String datasetNamespace(LineageDataset d) {
        if (d.kind() == LineageDataset.Kind.MODEL_ARTIFACT) {
            return ARTIFACT_NAMESPACE;
        }
        URI uri = locationUri(d.location());
        if (uri == null || uri.getScheme() == null || uri.getScheme().equals("file")) {
            return "file";
        }
        return uri.getScheme() + "://" + (uri.getAuthority() == null ? "" : uri.getAuthority());
    }

    /** The OpenLineage name of a dataset: the path of its location (the artifact URI for artifacts). */
    public static String datasetName(LineageDataset d) {
        if (d.kind() == LineageDataset.Kind.MODEL_ARTIFACT) {
            return d.location();
        }
        URI uri = locationUri(d.location());
        return uri == null || uri.getPath() == null || uri.getPath().isEmpty() ? d.location() : uri.getPath();
    }

    private static URI locationUri(String location) {
        try {
            return URI.create(location);
        } catch (IllegalArgumentException notAUri) {
            return null;
        }
    }

    private void record(OpenLineageStore.NewEvent event) {
        try {
            long id = store.append(event);
            endpoint.ifPresent(url -> deliver(id, url, event.eventJson()));
        } catch (RuntimeException e) {
            log.warn("OpenLineage {} event of {} ({}) not recorded: {}", event.eventType(), event.jobName(), event.runKey(), e.toString());
        }
    }

    private void deliver(long eventId, URI url, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        apiKey.ifPresent(key -> request.header("Authorization", "Bearer " + key));
        Integer status = null;
        String error = null;
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            status = response.statusCode();
            if (status / 100 != 2) {
                String body = response.body() == null ? "" : response.body();
                error = "HTTP " + status + (body.isBlank() ? "" : ": " + body.substring(0, Math.min(200, body.length())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted while sending";
        } catch (Exception e) {
            error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
        if (error != null) {
            log.warn("OpenLineage event {} not delivered to {}: {} (kept in PostgreSQL)", eventId, url, error);
        }
        store.recordDelivery(eventId, url.toString(), error == null, status, error);
    }

    /** The {@value #DELTA_FACET} dataset facet: the Delta table path and version as lineage records them, the row count. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    static final class DeltaFacet implements OpenLineage.DatasetFacet {
        private final URI producer;
        private final Map<String, Object> values;

        DeltaFacet(URI producer, Map<String, Object> values) {
            this.producer = producer;
            this.values = values;
        }

        @Override
        @JsonProperty("_producer")
        public URI get_producer() {
            return producer;
        }

        @Override
        @JsonProperty("_schemaURL")
        public URI get_schemaURL() {
            return DELTA_FACET_SCHEMA;
        }

        @Override
        @JsonProperty("_deleted")
        public Boolean get_deleted() {
            return null;
        }

        @Override
        @JsonAnyGetter
        public Map<String, Object> getAdditionalProperties() {
            return values;
        }
    }
}
