-- 0006_publish_copy_took: what a publish did with the read-only copy.
-- copy_ms is how long replacing it took (NULL when it was kept): the next
-- publish waits at least warehouse.CopyCostRatio times that long before
-- copying again, so copying a large warehouse takes a bounded share of the
-- time. copy_due is when a copy kept stale (the data changed within that
-- wait, or within copy_interval) is due; `status` shows it. Internal.
ALTER TABLE stackhouse_internal.publish_log ADD COLUMN copy_ms BIGINT;
ALTER TABLE stackhouse_internal.publish_log ADD COLUMN copy_due TIMESTAMPTZ;
