# shellcheck shell=bash
# The benchmark's throwaway PostgreSQL cluster and its deterministic sample data. Sourced by run.sh.
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

# Runs a PostgreSQL server tool as the cluster's owner (initdb refuses root).
as_postgres() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_cluster() {
    PG_DIR=$WORK/pg
    mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
    if ((EUID == 0)); then
        chown -R postgres: "$PG_DIR"
    fi
    as_postgres initdb -D "$PG_DIR/data" -U postgres -A trust -N -E UTF8 --locale=C >"$WORK/logs/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -n 5 "$WORK/logs/initdb.log")"
    local options="-k $PG_DIR/sock -p $PG_PORT -c listen_addresses=''"
    options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    options+=" -c max_wal_size=4GB -c checkpoint_timeout=30min -c shared_buffers=256MB -c autovacuum=off"
    as_postgres pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/server.log" -o "$options" -w start >/dev/null ||
        die "PostgreSQL did not start: $(tail -n 5 "$PG_DIR/server.log")"
    CLUSTER_UP=1
    # Every client below (pg_dump, psql, pgbench, and pgbackup through POSTGRES_*) reaches it by its socket.
    export PGHOST=$PG_DIR/sock PGPORT=$PG_PORT PGUSER=postgres
    export POSTGRES_HOST=$PG_DIR/sock POSTGRES_PORT=$PG_PORT POSTGRES_USER=postgres
}

stop_cluster() {
    ((CLUSTER_UP)) || return 0
    as_postgres pg_ctl -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
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
