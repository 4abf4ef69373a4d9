/**
 * The PostgreSQL metadata store of Trellis: models and their specs, environments, dataset versions,
 * training runs, validation reports, model versions, lineage, deployment pointers and the append-only
 * audit log, principals and their roles, and staged promotions (dev -> staging -> production) with their approvals.
 *
 * <p>Public API: {@link io.trellis.metadata.MetadataStore} (open it with a
 * {@link io.trellis.metadata.DatabaseConfig}; it runs the Flyway migrations of {@code trellis-migrations}
 * first), {@link io.trellis.metadata.Registry} (every operation) and the records and enums it takes and
 * returns. The Hibernate entities ({@code *Row}) are package-private: they never leave this package.
 * JSON columns cross the API as maps: params and reports as {@code Map<String, Object>}, metrics as
 * {@code Map<String, Double>}, gate results as {@code List<Map<String, Object>>}.
 */
package io.trellis.metadata;
