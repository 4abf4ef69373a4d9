package io.trellis.metadata;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Lineage graph queries for compliance: what made a model version, what a dataset fed, what was live when,
 * which model version wrote a predictions table version. The graph walks are the recursive SQL functions of
 * {@code R__lineage_views.sql} (which auditors can also call directly); every value reaches the database as a
 * bind parameter, never spliced into SQL text.
 */
public final class LineageQueries {
    /** Longest model name or table path accepted; longer input is refused before it reaches the database. */
    static final int MAX_NAME_LENGTH = 512;

    private final Transactions tx;
    private final Registry registry;

    LineageQueries(Transactions tx, Registry registry) {
        this.tx = tx;
        this.registry = registry;
    }

    /** What made {@code modelName} v{@code version}. UNKNOWN_MODEL / UNKNOWN_MODEL_VERSION when there is no such version. */
    public UpstreamLineage upstream(String modelName, int version) {
        requireName(modelName, "model name");
        requireVersion(version);
        LineageChain chain = registry.lineage(modelName, version);
        List<LineageNode> nodes = tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM lineage_upstream_of(?, ?)")) {
                ps.setString(1, modelName);
                ps.setInt(2, version);
                List<LineageNode> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new LineageNode(rs.getInt("depth"), rs.getString("relation"), rs.getString("node_kind"),
                                rs.getLong("node_id"), rs.getString("table_path"), longOrNull(rs, "delta_version"),
                                longOrNull(rs, "row_count"), rs.getString("dataset_kind"), rs.getString("run_key"),
                                null, null, null, null));
                    }
                }
                return out;
            }
        });
        List<PromotionRecord> promotions = registry.promotions(modelName, version);
        return new UpstreamLineage(chain.version(), chain.run(), nodes, promotions, chain.deployments(), chain.history());
    }

    /** What the dataset at {@code tablePath} fed, from all its recorded versions. MISSING_TABLE when none is recorded. */
    public DownstreamLineage downstream(String tablePath) {
        return downstream(tablePath, null);
    }

    /**
     * What the dataset at {@code tablePath} fed, from its versions up to and including {@code upToDeltaVersion}
     * (null: all). MISSING_TABLE when no such version is recorded; INVALID_REQUEST for a negative version.
     */
    public DownstreamLineage downstream(String tablePath, Long upToDeltaVersion) {
        requireName(tablePath, "table path");
        if (upToDeltaVersion != null && upToDeltaVersion < 0) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Delta versions start at 0, so up-to version " + upToDeltaVersion
                    + " matches nothing; pass 0 or more, or leave it out for every version.");
        }
        List<LineageNode> nodes = tx.inConnection(c -> {
            List<LineageNode> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM lineage_downstream_of(?, ?)")) {
                ps.setString(1, tablePath);
                if (upToDeltaVersion == null) {
                    ps.setNull(2, Types.BIGINT);
                } else {
                    ps.setLong(2, upToDeltaVersion);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new LineageNode(rs.getInt("depth"), rs.getString("relation"), rs.getString("node_kind"),
                                rs.getLong("node_id"), rs.getString("table_path"), longOrNull(rs, "delta_version"), null, null,
                                rs.getString("run_key"), rs.getString("run_status"), rs.getString("model_name"),
                                intOrNull(rs, "version"), rs.getString("version_status")));
                    }
                }
            }
            if (out.isEmpty()) {
                throw missingTable(c, tablePath, upToDeltaVersion);
            }
            return out;
        });
        Set<String> models = new LinkedHashSet<>();
        Set<String> versions = new LinkedHashSet<>();
        for (LineageNode n : nodes) {
            if (n.kind().equals(LineageNode.MODEL_VERSION)) {
                models.add(n.modelName());
                versions.add(n.modelName() + "\u0000" + n.version());
            }
        }
        List<DeploymentRecord> deployments = new ArrayList<>();
        for (String model : models) {
            registry.deployments(model).stream()
                    .filter(d -> versions.contains(d.modelName() + "\u0000" + d.version()))
                    .forEach(deployments::add);
        }
        deployments.sort(Comparator.comparing(DeploymentRecord::modelName).thenComparing(DeploymentRecord::validFrom)
                .thenComparing(DeploymentRecord::id));
        return new DownstreamLineage(tablePath, upToDeltaVersion, nodes, deployments);
    }

    /** The version live in each environment of {@code modelName} at {@code at}, lowest environment first. */
    public List<LiveVersion> liveAt(String modelName, Instant at) {
        requireName(modelName, "model name");
        if (at == null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The instant is missing; pass an ISO-8601 UTC time such as 2026-11-26T10:15:00Z.");
        }
        if (registry.findModel(modelName).isEmpty()) {
            registry.environments(modelName); // throws UNKNOWN_MODEL with the registered names
        }
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM live_at(?, ?)")) {
                ps.setString(1, modelName);
                ps.setObject(2, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
                List<LiveVersion> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        OffsetDateTime to = rs.getObject("valid_to", OffsetDateTime.class);
                        out.add(new LiveVersion(modelName, rs.getString("environment"), rs.getInt("environment_ordinal"),
                                rs.getInt("version"), rs.getObject("valid_from", OffsetDateTime.class).toInstant(),
                                to == null ? null : to.toInstant(), rs.getString("deployed_by"), rs.getString("reason")));
                    }
                }
                return out;
            }
        });
    }

    /**
     * The model version(s) that wrote version {@code deltaVersion} of the predictions table {@code predictionsTable}
     * (a prediction row's Delta commit version names it). MISSING_TABLE when that predictions version is not recorded.
     */
    public List<PredictionProducer> predictionProducers(String predictionsTable, long deltaVersion) {
        requireName(predictionsTable, "predictions table");
        if (deltaVersion < 0) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Delta versions start at 0; " + deltaVersion + " is not one.");
        }
        return tx.inConnection(c -> {
            List<PredictionProducer> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT predictions_table, delta_version, row_count, model_name, version,"
                    + " created_at, promotion_key FROM prediction_producers WHERE predictions_table = ? AND delta_version = ? ORDER BY model_name, version")) {
                ps.setString(1, predictionsTable);
                ps.setLong(2, deltaVersion);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new PredictionProducer(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getInt(5),
                                rs.getObject(6, OffsetDateTime.class).toInstant(), rs.getString(7)));
                    }
                }
            }
            if (out.isEmpty()) {
                throw missingTable(c, predictionsTable, deltaVersion);
            }
            return out;
        });
    }

    private static TrellisException missingTable(Connection c, String tablePath, Long version) throws SQLException {
        List<String> known = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT table_path FROM dataset_versions ORDER BY table_path LIMIT 20");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                known.add(rs.getString(1));
            }
        }
        return new TrellisException(ErrorCode.MISSING_TABLE, "No " + (version == null ? "version" : "version up to " + version)
                + " of table '" + tablePath + "' is recorded in lineage. "
                + (known.isEmpty() ? "No dataset versions are recorded yet." : "Recorded tables: " + String.join(", ", known) + ".")
                + " Check the path (as recorded, e.g. raw/churn) and the version.");
    }

    static void requireName(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The " + what + " is missing; pass a non-empty value.");
        }
        if (value.length() > MAX_NAME_LENGTH) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The " + what + " is " + value.length() + " characters long; at most "
                    + MAX_NAME_LENGTH + " are accepted.");
        }
    }

    private static void requireVersion(int version) {
        if (version < 1) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Model versions are numbered from 1; " + version + " is not one.");
        }
    }

    private static Long longOrNull(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    private static Integer intOrNull(ResultSet rs, String column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }
}
