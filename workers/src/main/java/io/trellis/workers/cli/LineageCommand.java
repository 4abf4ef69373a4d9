package io.trellis.workers.cli;

import io.trellis.metadata.DeploymentRecord;
import io.trellis.metadata.DownstreamLineage;
import io.trellis.metadata.LineageNode;
import io.trellis.metadata.LiveVersion;
import io.trellis.metadata.PredictionProducer;
import io.trellis.metadata.PromotionRecord;
import io.trellis.metadata.UpstreamLineage;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.TrellisRuntime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "lineage", mixinStandardHelpOptions = true,
        description = {"Show what made a model version (MODEL VERSION), or use a subcommand:",
                "downstream TABLE, live-at MODEL INSTANT, prediction TABLE DELTA_VERSION."},
        subcommands = {LineageCommand.Downstream.class, LineageCommand.LiveAt.class, LineageCommand.Prediction.class,
                LineageCommand.Events.class})
final class LineageCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL", arity = "0..1")
    String model;

    @Parameters(index = "1", paramLabel = "VERSION", arity = "0..1")
    Integer version;

    @Override
    public Integer call() {
        if (model == null || version == null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Name a model and a version (trellis lineage MODEL VERSION), or use "
                    + "trellis lineage downstream TABLE | live-at MODEL INSTANT | prediction TABLE DELTA_VERSION.");
        }
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            UpstreamLineage up = runtime.metadata().lineageQueries().upstream(model, version);
            for (LineageNode n : up.upstream()) {
                if (n.kind().equals(LineageNode.DATASET_VERSION)) {
                    System.out.println(n.relation() + ": " + n.tablePath() + " @ Delta v" + n.deltaVersion() + " (" + n.rowCount() + " rows"
                            + (n.depth() > 2 ? ", " + n.depth() + " steps up" : "") + ")");
                }
            }
            System.out.println("run: " + up.run().runKey() + " by " + up.run().triggeredBy() + ", code " + up.run().codeVersion()
                    + ", spec sha256 " + up.run().specSha256());
            System.out.println("version: " + model + " v" + up.version().version() + " " + up.version().status() + " "
                    + up.version().algorithm() + " " + up.version().params());
            System.out.println("metrics: " + up.version().metrics());
            System.out.println("artifact: " + up.version().artifactUri() + " sha256 " + up.version().artifactSha256());
            for (Map<String, Object> gate : up.version().gateResults()) {
                System.out.println("training gate: " + gate.get("gate") + " " + (Boolean.TRUE.equals(gate.get("passed")) ? "passed" : "FAILED"));
            }
            for (PromotionRecord p : up.promotions()) {
                System.out.println("promotion: " + p.promotionKey() + " " + p.status() + ", requested by " + p.requestedBy()
                        + (p.decision() == null ? "" : ", " + p.decision().name().toLowerCase(java.util.Locale.ROOT) + " by " + p.decidedBy()
                        + " at " + p.decidedAt()) + ", stages passed: "
                        + p.stages().stream().filter(s -> Boolean.TRUE.equals(s.get("passed"))).map(s -> String.valueOf(s.get("environment"))).toList());
            }
            up.deployments().forEach(d -> System.out.println("deployment: " + d.environment() + " " + d.role() + " from "
                    + d.validFrom() + (d.validTo() == null ? "" : " to " + d.validTo()) + " by " + d.deployedBy()));
            return TrellisCli.EXIT_OK;
        }
    }

    @Command(name = "downstream", mixinStandardHelpOptions = true,
            description = "Every run, model version, environment and predictions table a dataset fed (data deletion, bad-data incidents).")
    static final class Downstream implements Callable<Integer> {
        @ParentCommand
        LineageCommand lineage;

        @Parameters(index = "0", paramLabel = "TABLE", description = "The table path as recorded, e.g. raw/customer-churn.")
        String table;

        @Option(names = "--up-to-version", paramLabel = "N", description = "Only the table's Delta versions up to N.")
        Long upTo;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(lineage.root.config())) {
                DownstreamLineage down = runtime.metadata().lineageQueries().downstream(table, upTo);
                for (LineageNode n : down.nodes()) {
                    System.out.println("  ".repeat(n.depth()) + (n.depth() == 0 ? "" : n.relation() + " → ") + n.label());
                }
                for (DeploymentRecord d : down.deployments()) {
                    System.out.println("environment: " + d.modelName() + " v" + d.version() + " " + d.role() + " in " + d.environment()
                            + " from " + d.validFrom() + (d.validTo() == null ? " (still)" : " to " + d.validTo()));
                }
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "live-at", mixinStandardHelpOptions = true, description = "What was live in each environment of a model at an instant.")
    static final class LiveAt implements Callable<Integer> {
        @ParentCommand
        LineageCommand lineage;

        @Parameters(index = "0", paramLabel = "MODEL")
        String model;

        @Parameters(index = "1", paramLabel = "INSTANT", description = "UTC time, ISO-8601 (e.g. 2026-11-26T10:15:00Z).")
        Instant at;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(lineage.root.config())) {
                List<LiveVersion> live = runtime.metadata().lineageQueries().liveAt(model, at);
                if (live.isEmpty()) {
                    System.out.println("nothing of " + model + " was live at " + at);
                }
                live.forEach(l -> System.out.println(l.environment() + ": " + model + " v" + l.version() + " (live from " + l.validFrom()
                        + (l.validTo() == null ? ", still live" : " to " + l.validTo()) + ", deployed by " + l.deployedBy() + ")"));
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "prediction", mixinStandardHelpOptions = true,
            description = "Which model version wrote a predictions table version (a prediction row's Delta commit version).")
    static final class Prediction implements Callable<Integer> {
        @ParentCommand
        LineageCommand lineage;

        @Parameters(index = "0", paramLabel = "TABLE", description = "e.g. predictions/customer-churn/production")
        String table;

        @Parameters(index = "1", paramLabel = "DELTA_VERSION")
        long deltaVersion;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(lineage.root.config())) {
                for (PredictionProducer p : runtime.metadata().lineageQueries().predictionProducers(table, deltaVersion)) {
                    System.out.println(p.predictionsTable() + " @ Delta v" + p.deltaVersion() + ": written by " + p.modelName() + " v"
                            + p.version() + (p.promotionKey() == null ? "" : " in the shadow run of promotion " + p.promotionKey())
                            + " (" + p.rowCount() + " rows, recorded " + p.recordedAt() + ")");
                }
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "events", mixinStandardHelpOptions = true,
            description = {"The OpenLineage run events the Spark steps of a run emitted (START, COMPLETE, FAIL, ABORT), with their",
                    "datasets and Delta versions and their delivery status; --json prints each stored event document on a line."})
    static final class Events implements Callable<Integer> {
        private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

        @ParentCommand
        LineageCommand lineage;

        @Parameters(index = "0", paramLabel = "RUN", description = "The run key (workflow ID), e.g. retrain/customer-churn/20261126-101500-ab12.")
        String runKey;

        @Option(names = "--json", description = "Print the stored event documents (JSON Lines) instead of a summary.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (runKey.length() > 512) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "A run key is at most 512 characters; this one has " + runKey.length() + ".");
            }
            try (TrellisRuntime runtime = TrellisRuntime.open(lineage.root.config())) {
                List<io.trellis.metadata.OpenLineageStore.StoredEvent> events = runtime.metadata().openLineage().events(runKey);
                if (events.isEmpty()) {
                    throw new TrellisException(ErrorCode.INVALID_REQUEST, "No OpenLineage events are recorded for run '" + runKey
                            + "'; events are recorded for the Spark steps of retrain, promotion (shadow run), scoring and monitoring runs"
                            + " (list runs with trellis audit or the API's /api/v1/runs).");
                }
                for (var e : events) {
                    if (json) {
                        System.out.println(e.eventJson());
                        continue;
                    }
                    com.fasterxml.jackson.databind.JsonNode doc = JSON.readTree(e.eventJson());
                    System.out.println(e.eventTime() + " " + e.eventType() + " " + e.jobNamespace() + "/" + e.jobName() + " run " + e.runId()
                            + " | in: " + datasets(doc.path("inputs")) + " | out: " + datasets(doc.path("outputs"))
                            + " | delivery: " + (e.deliveryStatus() == null ? "not sent (no endpoint)"
                            : e.deliveryStatus() + (e.deliveryHttpStatus() == null ? "" : " HTTP " + e.deliveryHttpStatus())
                            + (e.deliveryError() == null ? "" : " (" + e.deliveryError() + ")")));
                }
                return TrellisCli.EXIT_OK;
            }
        }

        private static String datasets(com.fasterxml.jackson.databind.JsonNode list) {
            List<String> out = new java.util.ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode d : list) {
                String version = d.path("facets").path("version").path("datasetVersion").asText(null);
                out.add(d.path("namespace").asText() + ":" + d.path("name").asText() + (version == null ? "" : "@" + version));
            }
            return out.isEmpty() ? "-" : String.join(", ", out);
        }
    }
}
