package io.trellis.spark;

/** One Delta table pinned at one version: what a job read or wrote. */
public record DatasetVersion(String tablePath, long version) {
    @Override
    public String toString() {
        return tablePath + "@v" + version;
    }
}
