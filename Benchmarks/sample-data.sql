-- The benchmark's mixed table, next to pgbench's tables. Deterministic: every value comes from the row number
-- through md5() or from random() after setseed() in this one session (INSERT … SELECT runs serially).
-- Variables: docs_rows (row count), accounts_keep (0 = keep all of pgbench_accounts, else the first N rows).
\set ON_ERROR_STOP on
SELECT setseed(0.42);

DROP TABLE IF EXISTS bench_docs;
CREATE TABLE bench_docs (
    id         bigint PRIMARY KEY,
    created_at timestamptz NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    attrs      jsonb NOT NULL,
    payload    bytea NOT NULL,
    score      double precision NOT NULL
);

INSERT INTO bench_docs
SELECT i,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '37 seconds',
       'Document ' || i || ' about ' || substr(md5((i % 5000)::text), 1, 12),
       md5(i::text) || ' ' || repeat(substr(md5((i % 251)::text), 1, 16) || ' ', 1 + i % 4)
           || 'lorem ipsum dolor sit amet, consectetur adipiscing elit ' || md5((i * 31)::text),
       jsonb_build_object(
           'id', i,
           'tags', jsonb_build_array('tag' || (i % 13), 'tag' || (i % 7)),
           'owner', 'user' || (i % 1000),
           'hash', md5((i * 7)::text),
           'active', i % 3 = 0,
           'n', round((random() * 1000)::numeric, 3)),
       decode(md5(i::text) || md5((i + 1)::text), 'hex'),
       round(random()::numeric, 6)::double precision
FROM generate_series(1, :docs_rows) AS i;

CREATE INDEX bench_docs_created_at ON bench_docs (created_at);
CREATE INDEX bench_docs_title ON bench_docs (title);
CREATE INDEX bench_docs_attrs ON bench_docs USING gin (attrs);

-- Tiny sizes keep only part of pgbench's smallest (scale 1) accounts table.
DELETE FROM pgbench_accounts WHERE :accounts_keep > 0 AND aid > :accounts_keep;
VACUUM ANALYZE;
