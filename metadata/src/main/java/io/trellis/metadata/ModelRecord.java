package io.trellis.metadata;

/** A registered model and the spec most recently applied to it. */
public record ModelRecord(long id, String name, String specYaml, String specSha256) {
}
