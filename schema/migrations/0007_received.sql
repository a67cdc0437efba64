-- 0007_received: what each candidate's list row looked like, byte for
-- byte, when it was last received. received is a 64-bit hash (xxHash64) of
-- the row as the API sent it, and row_hash the candidate's row_hash that
-- those bytes gave. A scan that receives the same bytes again for a
-- candidate whose row_hash is still that one knows the row is unchanged
-- without canonicalizing and hashing it (most of a scan's own work on an
-- unchanged account). A row_hash changed by any other path simply stops
-- matching. Landed (land_received) and merged like the synced tables.
-- Internal.
CREATE TABLE stackhouse_internal.received (
    account_id   VARCHAR NOT NULL,
    candidate_id VARCHAR NOT NULL,
    row_hash     VARCHAR NOT NULL,
    received     UBIGINT NOT NULL
);
CREATE TABLE stackhouse_internal.land_received (
    account_id   VARCHAR NOT NULL,
    candidate_id VARCHAR NOT NULL,
    row_hash     VARCHAR NOT NULL,
    received     UBIGINT NOT NULL,
    _seq         BIGINT NOT NULL
);
