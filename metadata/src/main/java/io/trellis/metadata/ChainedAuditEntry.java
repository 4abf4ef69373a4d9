package io.trellis.metadata;

/** An audit entry with its place in the hash chain (see {@link AuditChain}). */
public record ChainedAuditEntry(AuditEntry entry, long chainSeq, String prevHash, String rowHash) {
}
