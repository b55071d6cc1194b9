-- 100,000 uploads for the record page's benchmark (bench/run.sh): nine in ten stored, one
-- in ten cancelled, a quarter through the link LINK_ID, a hundred folders. Runs as is in
-- SQLite and PostgreSQL.
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100000)
INSERT INTO uploads (key, link_id, name, folder, size, content_type, crc32c, uploader,
    client, state, reason, started_at, expires_at, finished_at)
SELECT 'uploads/bench/' || n, CASE WHEN n % 4 = 0 THEN 'LINK_ID' END,
    'file-' || n || '.bin', 'folder-' || (n % 100), 4096, 'application/octet-stream',
    'AAAAAA==', CASE WHEN n % 4 = 0 THEN 'Bench' END, '127.0.0.1',
    CASE WHEN n % 10 = 0 THEN 'cancelled' ELSE 'stored' END,
    CASE WHEN n % 10 = 0 THEN 'cancelled by the uploader' END,
    1700000000 + n, 1700086400 + n, 1700000001 + n
FROM s;
