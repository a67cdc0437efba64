-- 0002_accounts: the configured accounts and their time zones, kept in the
-- warehouse so that every calendar date a metric or a BI view reports (days
-- to fill, application dates, week and month buckets) is a date in the
-- account's own time zone. stackhouse writes both tables from the
-- configuration each time it opens the warehouse with one
-- (warehouse.DB.UpsertAccounts); BI users read them.

-- accounts: one row per configured account.
CREATE TABLE accounts (
    account_id VARCHAR NOT NULL,          -- the ApplicantStack subdomain, as in every table
    name       VARCHAR,                   -- display name (accounts[].name)
    timezone   VARCHAR NOT NULL,          -- IANA zone (accounts[].timezone), e.g. America/New_York
    updated_at TIMESTAMPTZ NOT NULL,      -- when name or timezone last changed
    PRIMARY KEY (account_id)
);

-- time_zone_days: every local calendar day from 1990 to 2099 of each time
-- zone an account uses, with the instants it starts and ends. A day is
-- [starts_at, ends_at): 23 or 25 hours long on a daylight-saving change. The
-- local date of an instant ts is local_date of the row whose local_date is
-- the UTC date of ts, minus one if ts < starts_at, plus one if ts >= ends_at
-- (the local_date(ts, row) macro the metrics use does exactly this).
CREATE TABLE time_zone_days (
    timezone   VARCHAR NOT NULL,
    local_date DATE NOT NULL,
    starts_at  TIMESTAMPTZ NOT NULL,      -- the first instant whose local date is local_date
    ends_at    TIMESTAMPTZ NOT NULL,      -- starts_at of the next day
    PRIMARY KEY (timezone, local_date)
);
