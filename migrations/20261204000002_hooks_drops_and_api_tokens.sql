-- Webhooks (the hooks the operator set, and the outbox of their deliveries), drops
-- (the files a person dropped together, for `batch.completed`)
-- and API tokens. Written once for SQLite and PostgreSQL, as the first migration is.

CREATE TABLE hooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    -- The `whsec_` secret its deliveries are signed with: the receiver holds it too, so
    -- it is kept as it is (like the server's own token secret).
    secret TEXT NOT NULL,
    -- The link whose events it hears; NULL hears the whole deployment.
    link_id TEXT REFERENCES links (id),
    -- The events it hears, comma-separated; empty hears all.
    events TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    removed_at BIGINT
);

-- The outbox: one row per event and hook, written in the transaction that records
-- what it tells, delivered at least once in the background.
CREATE TABLE deliveries (
    -- The delivery's `webhook-id` (the same on every try).
    id TEXT PRIMARY KEY,
    hook_id TEXT NOT NULL REFERENCES hooks (id),
    event TEXT NOT NULL,
    -- The JSON body (an upload's download URL is added at each try: it expires).
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- pending, delivered or failed (given up after the retry window).
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    -- A server sending it holds it until then; the others leave it alone meanwhile.
    leased_until BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    finished_at BIGINT
);

CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_hook ON deliveries (hook_id, created_at DESC);

-- The files one person dropped (or picked) together, as the page or `s3drop upload`
-- names them: finished once each of them has ended, or once the drop has been quiet.
CREATE TABLE drops (
    id TEXT PRIMARY KEY,
    link_id TEXT REFERENCES links (id),
    uploader TEXT,
    client TEXT,
    -- How many files the sender said it would start.
    files_expected BIGINT NOT NULL,
    -- Files refused at their start (they never enter the record).
    files_refused BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    last_start_at BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE INDEX drops_open ON drops (finished_at, last_start_at);

ALTER TABLE uploads ADD COLUMN drop_id TEXT;
CREATE INDEX uploads_by_drop ON uploads (drop_id);

-- When a link last became full (its file or byte limit reached), until it has room
-- again; and when its expiry was told.
ALTER TABLE links ADD COLUMN full_at BIGINT;
ALTER TABLE links ADD COLUMN expiry_told_at BIGINT;

-- API tokens: what scripts call the operator's API with (`Authorization: Bearer s3d_…`).
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- SHA-256 of the token, in hex; the token itself is shown once and never kept.
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);
