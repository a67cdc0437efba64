-- 0004_publish_log: one row per publish (read-only copy, Parquet tree,
-- upload), for `stackhouse status` and /metrics: BI freshness depends on
-- publishing as much as on syncing. Internal: not part of the contract.
CREATE TABLE stackhouse_internal.publish_log (
    finished_at    TIMESTAMPTZ NOT NULL,
    took_ms        BIGINT NOT NULL,
    files          INTEGER NOT NULL,   -- Parquet files replaced
    bytes          BIGINT NOT NULL,    -- bytes written locally
    copied         BOOLEAN NOT NULL,   -- the read-only copy was replaced
    remote         VARCHAR,            -- the object store's URL, no credentials
    uploaded       INTEGER NOT NULL,   -- files and manifests sent to it
    uploaded_bytes BIGINT NOT NULL,
    error          VARCHAR             -- NULL when the publish succeeded
);
