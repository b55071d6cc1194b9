-- Upload links and the record of uploads. Written once for SQLite and PostgreSQL:
-- plain types only (TEXT, BIGINT), times in Unix seconds, ids made by the server.

CREATE TABLE links (
    id TEXT PRIMARY KEY,
    -- SHA-256 of the link's secret, in hex; the secret itself is never kept.
    secret_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    message TEXT,
    -- Where the link's keys go, under the key prefix; empty for the prefix itself.
    folder TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    -- Limits; NULL is none.
    max_bytes BIGINT,
    max_files BIGINT,
    max_file_size BIGINT,
    -- Accepted types, comma-separated; empty accepts all.
    allowed_types TEXT NOT NULL,
    -- Argon2 PHC string of the link's own password, when it has one.
    password_hash TEXT,
    -- 1 when the uploader's name is asked before they drop.
    ask_name BIGINT NOT NULL,
    -- What the link holds: files started and not released (in flight or stored).
    bytes_held BIGINT NOT NULL,
    files_held BIGINT NOT NULL,
    last_upload_at BIGINT
);

CREATE TABLE uploads (
    -- The object key the server chose: unique per upload.
    key TEXT PRIMARY KEY,
    -- The link it came through; NULL for the open drop (or the operator's own).
    link_id TEXT REFERENCES links (id),
    name TEXT NOT NULL,
    folder TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    -- The stored object's CRC32C, once stored.
    crc32c TEXT,
    uploader TEXT,
    client TEXT,
    -- started, stored, cancelled, failed or expired.
    state TEXT NOT NULL,
    -- The multipart upload's id, while one is in flight (to abort it on revocation).
    upload_id TEXT,
    -- Why it was cancelled or failed.
    reason TEXT,
    started_at BIGINT NOT NULL,
    -- When its token expires: a started upload is released then.
    expires_at BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE INDEX uploads_newest ON uploads (started_at DESC, key);
CREATE INDEX uploads_by_link ON uploads (link_id, started_at DESC);
CREATE INDEX uploads_in_flight ON uploads (state, expires_at);
