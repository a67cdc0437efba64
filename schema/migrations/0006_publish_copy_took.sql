-- 0006_publish_copy_took: how long a publish spent replacing the read-only
-- copy (NULL when it kept the copy). The next publish waits at least
-- warehouse.CopyCostRatio times that long before copying again, so copying
-- a large warehouse takes a bounded share of the time. Internal.
ALTER TABLE stackhouse_internal.publish_log ADD COLUMN copy_ms BIGINT;
