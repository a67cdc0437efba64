-- 0001_init: the warehouse contract of DESIGN.md. BI users depend on these
-- names; change them only with a new migration and a note in the README.
--
-- Every synced table is keyed by account_id (the ApplicantStack subdomain)
-- plus the record's serial. Timestamps are TIMESTAMPTZ in UTC. remote_data is
-- the record as the API sent it with sensitive fields removed. An absent or
-- empty value is NULL, never ''.

CREATE TABLE jobs (
    account_id        VARCHAR NOT NULL,
    job_id            VARCHAR NOT NULL,   -- Job Serial (a2…)
    code              VARCHAR,            -- Job ID, the human job number
    name              VARCHAR,
    status            VARCHAR,            -- open, on_hold, filled, closed
    remote_stage      VARCHAR,            -- the account's own job stage name
    department        VARCHAR,
    location          VARCHAR,
    category          VARCHAR,
    job_type          VARCHAR,
    salary_range      VARCHAR,
    description       VARCHAR,            -- Job Listing (detail only)
    opened_at         TIMESTAMPTZ,        -- Campaign Start Date, else Create Date
    remote_created_at TIMESTAMPTZ,
    remote_updated_at TIMESTAMPTZ,
    row_hash          VARCHAR,            -- hash of the record, for change detection
    remote_data       JSON,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    remote_deleted_at TIMESTAMPTZ,
    PRIMARY KEY (account_id, job_id)
);

CREATE TABLE candidates (
    account_id        VARCHAR NOT NULL,
    candidate_id      VARCHAR NOT NULL,   -- Candidate Serial (a4…): one application
    job_id            VARCHAR,
    person_key        VARCHAR,            -- lower(trim(email)), for distinct people
    first_name        VARCHAR,
    last_name         VARCHAR,
    email             VARCHAR,
    phone             VARCHAR,
    city              VARCHAR,
    state             VARCHAR,
    zip               VARCHAR,
    source            VARCHAR,
    referred_by       VARCHAR,
    rating            VARCHAR,
    disposition       VARCHAR,            -- reject reason
    stage             VARCHAR,            -- the account's own stage name
    stage_type        VARCHAR,
    funnel_stage      VARCHAR,            -- applied, screened, interviewed, offered, hired, rejected, withdrawn
    score             DOUBLE,
    applied_at        TIMESTAMPTZ,
    hired_at          TIMESTAMPTZ,
    rejected_at       TIMESTAMPTZ,
    last_changed_at   TIMESTAMPTZ,        -- when stackhouse last saw the row change
    row_hash          VARCHAR,            -- hash of the list row, for change detection
    detail_hash       VARCHAR,            -- row_hash of the list row when detail was last fetched
    remote_data       JSON,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    remote_deleted_at TIMESTAMPTZ,
    PRIMARY KEY (account_id, candidate_id)
);

CREATE TABLE stage_events (
    account_id   VARCHAR NOT NULL,
    candidate_id VARCHAR NOT NULL,
    job_id       VARCHAR,
    stage        VARCHAR NOT NULL,
    funnel_stage VARCHAR,
    changed_at   TIMESTAMPTZ NOT NULL,
    changed_by   VARCHAR,
    origin       VARCHAR NOT NULL,        -- note, webhook, observed
    PRIMARY KEY (account_id, candidate_id, stage, changed_at, origin)
);

CREATE TABLE attachments (
    account_id      VARCHAR NOT NULL,
    attachment_id   VARCHAR NOT NULL,     -- file serial (a6…) from the URL path
    candidate_id    VARCHAR NOT NULL,
    file_name       VARCHAR,
    attachment_type VARCHAR,              -- resume, other
    content_type    VARCHAR,
    size_bytes      BIGINT,
    sha256          VARCHAR,
    blob_path       VARCHAR,              -- relative to the attachments directory
    downloaded_at     TIMESTAMPTZ,
    remote_data       JSON,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    remote_deleted_at TIMESTAMPTZ,
    PRIMARY KEY (account_id, attachment_id)
);

CREATE TABLE hires (
    account_id        VARCHAR NOT NULL,
    hire_id           VARCHAR NOT NULL,   -- Hire Serial (e2…)
    candidate_id      VARCHAR,            -- '' upstream becomes NULL
    first_name        VARCHAR,
    last_name         VARCHAR,
    email             VARCHAR,
    job_name          VARCHAR,
    department        VARCHAR,
    location          VARCHAR,
    hire_date         DATE,
    start_date        DATE,
    stage             VARCHAR,
    manager           VARCHAR,
    pay_rate          VARCHAR,
    remote_created_at TIMESTAMPTZ,
    remote_updated_at TIMESTAMPTZ,
    row_hash          VARCHAR,            -- hash of the record, for change detection
    remote_data       JSON,               -- never SSN, DOB, Forms or questionnaire answers
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    remote_deleted_at TIMESTAMPTZ,
    PRIMARY KEY (account_id, hire_id)
);

CREATE TABLE sync_runs (
    run_id            VARCHAR NOT NULL,
    account_id        VARCHAR NOT NULL,
    mode              VARCHAR NOT NULL,   -- backfill, sync, full, tail, webhook
    status            VARCHAR NOT NULL,   -- running, succeeded, failed, interrupted
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    requests          BIGINT DEFAULT 0,
    retries           BIGINT DEFAULT 0,
    throttled         BIGINT DEFAULT 0,   -- 429 answers waited out
    pages             BIGINT DEFAULT 0,
    rows_new          BIGINT DEFAULT 0,
    rows_changed      BIGINT DEFAULT 0,
    rows_unchanged    BIGINT DEFAULT 0,
    rows_deleted      BIGINT DEFAULT 0,
    details_fetched   BIGINT DEFAULT 0,
    files_downloaded  BIGINT DEFAULT 0,
    rejected          BIGINT DEFAULT 0,
    complete_scan     BOOLEAN DEFAULT false,
    error             VARCHAR,
    PRIMARY KEY (run_id, account_id)
);

CREATE TABLE rejected_records (
    account_id  VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL,
    resource    VARCHAR NOT NULL,         -- job, candidate, hire, attachment
    remote_id   VARCHAR,
    reason      VARCHAR NOT NULL,
    payload     VARCHAR,                  -- sensitive fields removed
    rejected_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_events (
    event_id     VARCHAR NOT NULL,        -- sha256 of the payload minus Secret
    account_id   VARCHAR NOT NULL,
    object_type  VARCHAR,
    event_type   VARCHAR,
    object_id    VARCHAR,                 -- Candidate Serial or Hire Serial
    stage        VARCHAR,
    event_date   TIMESTAMPTZ,
    user_serial  VARCHAR,
    user_type    VARCHAR,
    payload      JSON,                    -- as received, Secret removed
    received_at  TIMESTAMPTZ NOT NULL,
    applied_at   TIMESTAMPTZ,
    PRIMARY KEY (account_id, event_id)
);

-- sync_checkpoints holds the progress of an unfinished run, committed in the
-- same transaction as the rows it covers, so a killed run resumes from it.
CREATE TABLE sync_checkpoints (
    account_id VARCHAR NOT NULL,
    resource   VARCHAR NOT NULL,          -- jobs, candidates, hires
    run_id     VARCHAR NOT NULL,
    mode       VARCHAR NOT NULL,
    state      JSON NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, resource)
);
