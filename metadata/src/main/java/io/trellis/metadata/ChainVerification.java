package io.trellis.metadata;

import java.time.Instant;

/**
 * What {@link AuditChain#verify()} found: {@code intact} when every row's hash matches its content and the
 * previous row's hash, the sequence has no gap and the chain head points at the last row. Otherwise
 * {@code brokenAtId}/{@code brokenAtSeq} name the first row where the chain breaks (null where the break is
 * after the last row, e.g. rows missing at the end) and {@code problem} says what is wrong there.
 *
 * @param rowsChecked rows read, up to and including the first broken one
 * @param headHash    the hash the chain head holds: publish it elsewhere to detect a rewritten chain
 */
public record ChainVerification(
        boolean intact,
        long rowsChecked,
        Long brokenAtId,
        Long brokenAtSeq,
        String problem,
        long headSeq,
        String headHash,
        Instant verifiedAt) {

    /** One line for people: {@code intact (1,234 rows, head 5f3a...)} or where and why it broke. */
    public String summary() {
        if (intact) {
            return String.format(java.util.Locale.ROOT, "intact: %,d rows, head seq %d hash %s", rowsChecked, headSeq, headHash);
        }
        return "BROKEN at " + (brokenAtId == null ? "the end of the chain" : "audit entry " + brokenAtId + " (chain seq " + brokenAtSeq + ")")
                + ": " + problem;
    }
}
