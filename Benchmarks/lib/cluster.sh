# shellcheck shell=bash
# The benchmark's throwaway PostgreSQL cluster and its deterministic sample data. Sourced by run.sh, after
# deploy/lib/throwaway-postgres.sh (which starts the cluster the way the quick start does).
#
# The cluster runs with fsync=off, synchronous_commit=off and full_page_writes=off: durability does not matter
# for a cluster that is deleted afterwards, and it keeps restore timings about PostgreSQL's CPU work and
# pgbackup's streaming rather than this machine's disk flushes. autovacuum=off: otherwise it analyses each
# freshly restored database at a random moment, on the CPU of whatever is measured next. Both restore
# methods get the same settings.
# Its globals are read by the other files run.sh sources.
# shellcheck disable=SC2034

PG_DIR=""
PG_PORT=5432
CLUSTER_UP=0

start_cluster() {
    PG_DIR=$WORK/pg
    throwaway_pg_make_dirs "$PG_DIR" "$PG_DIR/data" "$PG_DIR/sock"
    throwaway_pg_init "$PG_DIR/data" "$WORK/logs/initdb.log" --locale=C ||
        die "initdb failed: $(tail -n 5 "$WORK/logs/initdb.log")"
    throwaway_pg_start "$PG_DIR/data" "$PG_DIR/sock" "$PG_PORT" "$PG_DIR/server.log" \
        fsync=off synchronous_commit=off full_page_writes=off \
        max_wal_size=4GB checkpoint_timeout=30min shared_buffers=256MB autovacuum=off ||
        die "PostgreSQL did not start: $(tail -n 5 "$PG_DIR/server.log")"
    CLUSTER_UP=1
    # Every client below (pg_dump, psql, pgbench, and pgbackup through POSTGRES_*) reaches it by its socket.
    export PGHOST=$PG_DIR/sock PGPORT=$PG_PORT PGUSER=postgres
    export POSTGRES_HOST=$PG_DIR/sock POSTGRES_PORT=$PG_PORT POSTGRES_USER=postgres
}

stop_cluster() {
    ((CLUSTER_UP)) || return 0
    throwaway_pg_stop "$PG_DIR/data" 2>/dev/null || true
    CLUSTER_UP=0
}

sql() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# Sizes are targets for the plain dump: about half pgbench's tables (about 95 bytes a pgbench_accounts row,
# almost all blanks, so it compresses very well), half bench_docs (about 438 bytes a row, md5 text, jsonb and
# bytea, so it compresses to roughly 28 %).
generate_data() {
    local target_bytes=$((SIZE_MB * 1000000))
    local pgbench_bytes=$((target_bytes / 2)) scale accounts_keep=0 docs_rows
    if ((pgbench_bytes >= 9490000)); then
        scale=$(((pgbench_bytes + 4745000) / 9490000))
    else
        scale=1
        accounts_keep=$((pgbench_bytes / 95))
    fi
    local pgbench_actual=$((accounts_keep > 0 ? accounts_keep * 95 : scale * 9490000))
    docs_rows=$(((target_bytes - pgbench_actual) / 438))
    ((docs_rows >= 1000)) || docs_rows=1000
    DATA_DESCRIPTION="pgbench scale $scale"
    if ((accounts_keep > 0)); then
        DATA_DESCRIPTION+=" (pgbench_accounts cut to $accounts_keep rows)"
    fi
    DATA_DESCRIPTION+=", bench_docs $docs_rows rows"
    say "generating data: $DATA_DESCRIPTION"

    sql postgres "CREATE DATABASE bench TEMPLATE template0" >/dev/null
    # pgbench's initial data has no randomness: aid/bid/tid sequences, zero balances, blank fillers.
    pgbench -i -q -s "$scale" bench >"$WORK/logs/pgbench-init.log" 2>&1 ||
        die "pgbench -i failed: $(tail -n 5 "$WORK/logs/pgbench-init.log")"
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d bench \
        -v docs_rows="$docs_rows" -v accounts_keep="$accounts_keep" \
        -f "$BENCH_DIR/sample-data.sql" >"$WORK/logs/sample-data.log" 2>&1 ||
        die "sample data failed: $(tail -n 5 "$WORK/logs/sample-data.log")"
    DB_SIZE_BYTES=$(sql bench "SELECT pg_database_size('bench')")
    SOURCE_FINGERPRINT=$(fingerprint bench)
    say "database bench: $(mib "$DB_SIZE_BYTES") MiB on disk"

    # The small database whose one real backup is copied to make the API's many backups.
    sql postgres "CREATE DATABASE bench_list TEMPLATE template0" >/dev/null
    sql bench_list "CREATE TABLE notes (id int PRIMARY KEY, note text);
        INSERT INTO notes SELECT i, md5(i::text) FROM generate_series(1, 100) AS i" >/dev/null
}

# Row counts and a content checksum of the tables, to check that a restore brought everything back.
fingerprint() {
    sql "$1" "SELECT (SELECT count(*) FROM pgbench_accounts) || ' accounts, '
        || (SELECT count(*) FROM pgbench_history) || ' history, '
        || (SELECT count(*) FROM bench_docs) || ' docs, '
        || (SELECT md5(string_agg(md5(body || attrs::text || encode(payload, 'hex')), '' ORDER BY id)) FROM bench_docs)"
}

# A fresh, empty database for one restore run (the previous run's copy is dropped first). A checkpoint
# before the run keeps the previous run's dirty pages from being written out during this one.
fresh_database() {
    sql postgres "DROP DATABASE IF EXISTS $1" >/dev/null
    sql postgres "CREATE DATABASE $1 TEMPLATE template0" >/dev/null
    sql postgres "CHECKPOINT" >/dev/null
}
