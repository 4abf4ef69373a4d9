package io.trellis.metadata;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;

/**
 * Verifies the audit log's hash chain (migration V3) without trusting the database's own hash functions:
 * every row's SHA-256 is recomputed here from its stored content and the previous row's hash.
 *
 * <p>Canonical content, as UTF-8: id, occurred_at (microseconds since the epoch), actor, action, outcome,
 * model_name, model_version, run_key, message, details (jsonb's text form), each as
 * {@code <byte length>:<value>} or {@code -} for NULL, joined with {@code |}; the hash covers
 * {@code prev_hash + "|" + canonical}. The first row's prev_hash is 64 zeros.
 */
public final class AuditChain {
    /** prev_hash of the first row of the chain. */
    public static final String GENESIS_HASH = "0".repeat(64);
    private static final int FETCH_SIZE = 5_000;

    private final Transactions tx;

    AuditChain(Transactions tx) {
        this.tx = tx;
    }

    /** Walks the whole chain in sequence order and reports the first broken link. */
    public ChainVerification verify() {
        return tx.inConnection(this::verify);
    }

    private ChainVerification verify(Connection c) throws SQLException {
        // One snapshot for the head and the rows: a writer commits its row and the head move together, so
        // rows committed while the walk runs are neither half-seen nor reported as a broken end.
        try (Statement s = c.createStatement()) {
            s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        }
        long headSeq;
        String headHash;
        try (PreparedStatement ps = c.prepareStatement("SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1");
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return broken(0, null, null, "the chain head row is missing", -1, null);
            }
            headSeq = rs.getLong(1);
            headHash = rs.getString(2);
        }
        long checked = 0;
        long expectedSeq = 1;
        String prev = GENESIS_HASH;
        MessageDigest sha = sha256();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, occurred_at, actor, action, outcome, model_name, model_version,"
                + " run_key, message, details::text, chain_seq, prev_hash, row_hash FROM audit_log ORDER BY chain_seq")) {
            ps.setFetchSize(FETCH_SIZE);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    checked++;
                    long id = rs.getLong(1);
                    long seq = rs.getLong(11);
                    String storedPrev = rs.getString(12);
                    String storedHash = rs.getString(13);
                    if (seq != expectedSeq) {
                        return broken(checked, id, seq, "chain seq " + seq + " follows " + (expectedSeq - 1) + ": "
                                + (seq - expectedSeq) + " row(s) before it are missing", headSeq, headHash);
                    }
                    if (!prev.equals(storedPrev)) {
                        return broken(checked, id, seq, "its prev_hash " + storedPrev + " is not the hash of the row before it ("
                                + prev + "): a row before it was removed, inserted or rewritten", headSeq, headHash);
                    }
                    Integer modelVersion = (Integer) rs.getObject(7);
                    String canonical = canonical(id, rs.getObject(2, java.time.OffsetDateTime.class).toInstant(), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getString(6), modelVersion, rs.getString(8), rs.getString(9), rs.getString(10));
                    String actual = hash(sha, prev, canonical);
                    if (!actual.equals(storedHash)) {
                        return broken(checked, id, seq, "its content does not match its row_hash (stored " + storedHash
                                + ", content hashes to " + actual + "): the row was changed after it was written", headSeq, headHash);
                    }
                    prev = storedHash;
                    expectedSeq++;
                }
            }
        }
        if (headSeq != expectedSeq - 1 || !headHash.equals(prev)) {
            return broken(checked, null, null, "the chain head says seq " + headSeq + " hash " + headHash + " but the last row is seq "
                    + (expectedSeq - 1) + " hash " + prev + ": rows at the end were removed", headSeq, headHash);
        }
        return new ChainVerification(true, checked, null, null, null, headSeq, headHash, now());
    }

    private static ChainVerification broken(long checked, Long id, Long seq, String problem, long headSeq, String headHash) {
        return new ChainVerification(false, checked, id, seq, problem, headSeq, headHash, now());
    }

    /** The canonical text of one audit row (see the class comment). */
    static String canonical(long id, Instant occurredAt, String actor, String action, String outcome, String modelName,
                            Integer modelVersion, String runKey, String message, String detailsJson) {
        long micros = Math.addExact(Math.multiplyExact(occurredAt.getEpochSecond(), 1_000_000L), occurredAt.getNano() / 1_000);
        StringBuilder sb = new StringBuilder(256);
        field(sb, Long.toString(id));
        field(sb.append('|'), Long.toString(micros));
        field(sb.append('|'), actor);
        field(sb.append('|'), action);
        field(sb.append('|'), outcome);
        field(sb.append('|'), modelName);
        field(sb.append('|'), modelVersion == null ? null : modelVersion.toString());
        field(sb.append('|'), runKey);
        field(sb.append('|'), message);
        field(sb.append('|'), detailsJson);
        return sb.toString();
    }

    static String hash(MessageDigest sha, String prevHash, String canonical) {
        sha.reset();
        return HexFormat.of().formatHex(sha.digest((prevHash + "|" + canonical).getBytes(StandardCharsets.UTF_8)));
    }

    private static void field(StringBuilder sb, String value) {
        if (value == null) {
            sb.append('-');
        } else {
            sb.append(value.getBytes(StandardCharsets.UTF_8).length).append(':').append(value);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

}
