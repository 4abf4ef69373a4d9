package io.trellis.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit and lineage record of one model that a compliance team can file: every audit entry about the
 * model with its place in the hash chain, the upstream lineage of every version (inputs, run, parameters,
 * gates, promotions and approvers, deployments), and the result of verifying the whole chain at export
 * time. Timestamps are UTC ISO-8601. Written as one JSON document or as CSV files with readable headers.
 */
public record ComplianceExport(
        String modelName,
        Instant exportedAt,
        ChainVerification verification,
        List<ChainedAuditEntry> auditTrail,
        List<UpstreamLineage> versions) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

    /** Builds the export of {@code modelName}; UNKNOWN_MODEL when there is no such model. */
    public static ComplianceExport of(MetadataStore store, String modelName) {
        LineageQueries.requireName(modelName, "model name");
        Registry registry = store.registry();
        List<ModelVersionRecord> versions = registry.versions(modelName);
        ChainVerification verification = store.auditChain().verify();
        List<ChainedAuditEntry> trail = store.transactions().inConnection(c -> {
            List<ChainedAuditEntry> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT audit_id, occurred_at, actor, action, outcome, model_name, model_version,"
                    + " run_key, message, details::text, chain_seq, prev_hash, row_hash FROM audit_trail WHERE model_name = ? ORDER BY chain_seq")) {
                ps.setString(1, modelName);
                ps.setFetchSize(5_000);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String details = rs.getString(10);
                        AuditEntry entry = new AuditEntry(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant(), rs.getString(3),
                                rs.getString(4), AuditOutcome.valueOf(rs.getString(5)), rs.getString(6), (Integer) rs.getObject(7),
                                rs.getString(8), rs.getString(9), details == null ? null : parse(details));
                        out.add(new ChainedAuditEntry(entry, rs.getLong(11), rs.getString(12), rs.getString(13)));
                    }
                }
            }
            return out;
        });
        List<UpstreamLineage> lineage = versions.stream().map(v -> store.lineageQueries().upstream(modelName, v.version())).toList();
        return new ComplianceExport(modelName, verification.verifiedAt(), verification, trail, lineage);
    }

    /** The whole export as one JSON document. */
    public void writeJson(Path file) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model", modelName);
        doc.put("exportedAt", exportedAt.toString());
        doc.put("chainVerification", verificationMap());
        List<Map<String, Object>> audit = new ArrayList<>();
        for (ChainedAuditEntry c : auditTrail) {
            AuditEntry e = c.entry();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("auditId", e.id());
            m.put("chainSeq", c.chainSeq());
            m.put("occurredAt", e.occurredAt().toString());
            m.put("actor", e.actor());
            m.put("action", e.action());
            m.put("outcome", e.outcome().name());
            m.put("modelVersion", e.modelVersion());
            m.put("runKey", e.runKey());
            m.put("message", e.message());
            m.put("details", e.details());
            m.put("prevHash", c.prevHash());
            m.put("rowHash", c.rowHash());
            audit.add(m);
        }
        doc.put("auditTrail", audit);
        List<Map<String, Object>> versionDocs = new ArrayList<>();
        for (UpstreamLineage u : versions) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("version", u.version().version());
            v.put("status", u.version().status().name());
            v.put("createdAt", u.version().createdAt().toString());
            v.put("algorithm", u.version().algorithm());
            v.put("parameters", u.version().params());
            v.put("metrics", u.version().metrics());
            v.put("trainingGates", u.version().gateResults());
            v.put("codeVersion", u.version().codeVersion());
            v.put("artifactUri", u.version().artifactUri());
            v.put("artifactSha256", u.version().artifactSha256());
            Map<String, Object> run = new LinkedHashMap<>();
            run.put("runKey", u.run().runKey());
            run.put("status", u.run().status().name());
            run.put("triggeredBy", u.run().triggeredBy());
            run.put("reason", u.run().reason());
            run.put("specSha256", u.run().specSha256());
            run.put("startedAt", u.run().startedAt().toString());
            run.put("finishedAt", iso(u.run().finishedAt()));
            v.put("trainingRun", run);
            List<Map<String, Object>> inputs = new ArrayList<>();
            for (LineageNode n : u.upstream()) {
                if (n.kind().equals(LineageNode.DATASET_VERSION)) {
                    Map<String, Object> in = new LinkedHashMap<>();
                    in.put("relation", n.relation());
                    in.put("table", n.tablePath());
                    in.put("deltaVersion", n.deltaVersion());
                    in.put("rowCount", n.rowCount());
                    in.put("kind", n.datasetKind());
                    in.put("depth", n.depth());
                    inputs.add(in);
                }
            }
            v.put("inputs", inputs);
            List<Map<String, Object>> promotions = new ArrayList<>();
            for (PromotionRecord p : u.promotions()) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("promotionKey", p.promotionKey());
                pm.put("targetEnvironment", p.targetEnvironment());
                pm.put("status", p.status().name());
                pm.put("requestedBy", p.requestedBy());
                pm.put("decision", p.decision() == null ? null : p.decision().name());
                pm.put("decidedBy", p.decidedBy());
                pm.put("decisionReason", p.decisionReason());
                pm.put("decidedAt", iso(p.decidedAt()));
                pm.put("stages", p.stages());
                promotions.add(pm);
            }
            v.put("promotions", promotions);
            List<Map<String, Object>> deployments = new ArrayList<>();
            for (DeploymentRecord d : u.deployments()) {
                Map<String, Object> dm = new LinkedHashMap<>();
                dm.put("environment", d.environment());
                dm.put("role", d.role().name());
                dm.put("validFrom", d.validFrom().toString());
                dm.put("validTo", iso(d.validTo()));
                dm.put("deployedBy", d.deployedBy());
                dm.put("reason", d.reason());
                deployments.add(dm);
            }
            v.put("deployments", deployments);
            versionDocs.add(v);
        }
        doc.put("versions", versionDocs);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            JSON.writeValue(file.toFile(), doc);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write the export to " + file, e);
        }
    }

    /**
     * The export as three CSV files in {@code directory}: {@code chain_verification.csv},
     * {@code audit_trail.csv} (one row per audit entry) and {@code lineage.csv} (one row per fact about a version).
     */
    public void writeCsv(Path directory) {
        try {
            Files.createDirectories(directory);
            try (Writer w = Files.newBufferedWriter(directory.resolve("chain_verification.csv"), StandardCharsets.UTF_8)) {
                csv(w, "Model", "Exported At (UTC)", "Chain Intact", "Rows Checked", "Broken At Audit ID", "Broken At Chain Seq",
                        "Problem", "Chain Head Seq", "Chain Head Hash");
                csv(w, modelName, exportedAt.toString(), String.valueOf(verification.intact()), String.valueOf(verification.rowsChecked()),
                        str(verification.brokenAtId()), str(verification.brokenAtSeq()), verification.problem(),
                        String.valueOf(verification.headSeq()), verification.headHash());
            }
            try (Writer w = Files.newBufferedWriter(directory.resolve("audit_trail.csv"), StandardCharsets.UTF_8)) {
                csv(w, "Audit ID", "Chain Seq", "Occurred At (UTC)", "Actor", "Action", "Outcome", "Model", "Model Version", "Run Key",
                        "Message", "Details (JSON)", "Previous Hash", "Row Hash");
                for (ChainedAuditEntry c : auditTrail) {
                    AuditEntry e = c.entry();
                    csv(w, String.valueOf(e.id()), String.valueOf(c.chainSeq()), e.occurredAt().toString(), e.actor(), e.action(),
                            e.outcome().name(), e.modelName(), str(e.modelVersion()), e.runKey(), e.message(), json(e.details()),
                            c.prevHash(), c.rowHash());
                }
            }
            try (Writer w = Files.newBufferedWriter(directory.resolve("lineage.csv"), StandardCharsets.UTF_8)) {
                csv(w, "Model", "Version", "Fact", "Subject", "Detail", "Who", "At (UTC)");
                for (UpstreamLineage u : versions) {
                    String v = String.valueOf(u.version().version());
                    csv(w, modelName, v, "version", u.version().status().name(), "algorithm " + u.version().algorithm() + "; parameters "
                            + json(u.version().params()) + "; metrics " + json(u.version().metrics()) + "; code " + u.version().codeVersion()
                            + "; artifact sha256 " + u.version().artifactSha256(), null, u.version().createdAt().toString());
                    csv(w, modelName, v, "training run", u.run().runKey(), u.run().status().name() + "; spec sha256 " + u.run().specSha256()
                            + "; reason " + u.run().reason(), u.run().triggeredBy(), u.run().startedAt().toString());
                    for (LineageNode n : u.upstream()) {
                        if (n.kind().equals(LineageNode.DATASET_VERSION)) {
                            csv(w, modelName, v, "input (" + n.relation() + ")", n.tablePath(), "Delta version " + n.deltaVersion() + "; "
                                    + n.rowCount() + " rows; " + n.datasetKind(), null, null);
                        }
                    }
                    for (Map<String, Object> gate : u.version().gateResults()) {
                        csv(w, modelName, v, "training gate", String.valueOf(gate.get("gate")), json(gate), null, null);
                    }
                    for (PromotionRecord p : u.promotions()) {
                        csv(w, modelName, v, "promotion to " + p.targetEnvironment(), p.promotionKey(), p.status().name() + "; stages "
                                + json(p.stages()), p.requestedBy(), p.startedAt().toString());
                        if (p.decision() != null) {
                            csv(w, modelName, v, "approval decision", p.promotionKey(), p.decision().name()
                                    + (p.decisionReason() == null ? "" : "; " + p.decisionReason()), p.decidedBy(), iso(p.decidedAt()));
                        }
                    }
                    for (DeploymentRecord d : u.deployments()) {
                        csv(w, modelName, v, "deployment", d.environment() + " " + d.role().name().toLowerCase(java.util.Locale.ROOT),
                                "until " + (d.validTo() == null ? "now" : d.validTo().toString()) + (d.reason() == null ? "" : "; " + d.reason()),
                                d.deployedBy(), d.validFrom().toString());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write the export to " + directory, e);
        }
    }

    private Map<String, Object> verificationMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("intact", verification.intact());
        m.put("summary", verification.summary());
        m.put("rowsChecked", verification.rowsChecked());
        m.put("brokenAtAuditId", verification.brokenAtId());
        m.put("brokenAtChainSeq", verification.brokenAtSeq());
        m.put("problem", verification.problem());
        m.put("headSeq", verification.headSeq());
        m.put("headHash", verification.headHash());
        m.put("verifiedAt", verification.verifiedAt().toString());
        return m;
    }

    /** RFC 4180: every field quoted, quotes doubled; null is an empty field. */
    private static void csv(Writer w, String... fields) throws IOException {
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                w.write(',');
            }
            if (fields[i] != null) {
                w.write('"');
                w.write(fields[i].replace("\"", "\"\""));
                w.write('"');
            }
        }
        w.write("\r\n");
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static String iso(Instant t) {
        return t == null ? null : t.toString();
    }

    private static String json(Object o) {
        if (o == null) {
            return null;
        }
        try {
            return new ObjectMapper().writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Could not write JSON for the export", e);
        }
    }

    private static Map<String, Object> parse(String json) {
        try {
            return JSON.readValue(json, MAP);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("An audit row's details are not a JSON object: " + json, e);
        }
    }
}
