# shellcheck shell=bash
# The create and restore measurements, and the runs that show where create's time goes. Sourced by run.sh.
# Single quotes are meant: bash -c scripts get their values as arguments, markdown shows backquotes.
# shellcheck disable=SC2016

# pgbackup's own pg_dump options (PostgresTools.dumpCommand), so every baseline dumps the same SQL.
DUMP_FLAGS=(--format=plain --clean --if-exists --no-owner --no-acl)
PIGZ_THREADS=$(nproc)
BACKUP_NAME=""

# pgbackup create's output directory holds one backup at a time: each run replaces the last.
clear_create_dir() {
    find "$WORK/create" -maxdepth 1 -name 'backup_*' -delete
}

create_suite() {
    mkdir -p "$WORK/out" "$WORK/create"
    export PGDATABASE=bench
    # Warm-up (untimed): every measured run then reads a warm cache.
    pg_dump "${DUMP_FLAGS[@]}" >/dev/null
    local run
    for ((run = 1; run <= RUNS; run++)); do
        say "create, run $run of $RUNS"
        measure gzip "$WORK/out/gzip.sql.gz" -- \
            bash -c 'set -o pipefail; pg_dump "${@:2}" | gzip -6 >"$1"' _ "$WORK/out/gzip.sql.gz" "${DUMP_FLAGS[@]}"
        measure pigz "$WORK/out/pigz.sql.gz" -- \
            bash -c 'set -o pipefail; pg_dump "${@:2}" | pigz -6 >"$1"' _ "$WORK/out/pigz.sql.gz" "${DUMP_FLAGS[@]}"
        measure custom "$WORK/out/custom.dump" -- pg_dump -Fc --no-owner --no-acl -f "$WORK/out/custom.dump"
        clear_create_dir
        measure pgbackup_create "$WORK/create" -- \
            env BACKUP_DIR="$WORK/create" POSTGRES_DB=bench "$BIN/pgbackup" create -d "benchmark run $run"
        measure dump_null - -- bash -c 'pg_dump "$@" >/dev/null' _ "${DUMP_FLAGS[@]}"
    done
    BACKUP_NAME=$(basename "$(find "$WORK/create" -maxdepth 1 -name 'backup_*.sql.gz' | head -n 1)")
    [[ -n $BACKUP_NAME ]] || die "pgbackup create left no backup"
    UNCOMPRESSED_BYTES=$(grep -o '"uncompressed_bytes" *: *[0-9]*' "$WORK/create/$BACKUP_NAME.json" | grep -o '[0-9]*$')
    # pgbackup's file must be ordinary gzip holding the whole dump.
    local decoded
    decoded=$(gunzip -c "$WORK/create/$BACKUP_NAME" | wc -c)
    [[ $decoded == "$UNCOMPRESSED_BYTES" ]] ||
        die "gunzip reads $decoded bytes from $BACKUP_NAME, its sidecar says $UNCOMPRESSED_BYTES"
    say "plain dump: $(mib "$UNCOMPRESSED_BYTES") MiB; pgbackup's backup: $BACKUP_NAME"
}

# Each stage of create on its own: dump to a file, compress that file single- and multi-threaded, hash the
# compressed output; and the read side of restore (decode only, and pgbackup verify).
breakdown_suite() {
    local raw=$WORK/out/raw.sql backup=$WORK/create/$BACKUP_NAME run
    for ((run = 1; run <= RUNS; run++)); do
        say "breakdown, run $run of $RUNS"
        measure dump_file "$raw" -- bash -c 'pg_dump "${@:2}" >"$1"' _ "$raw" "${DUMP_FLAGS[@]}"
        measure gzip_only - -- bash -c 'gzip -6 -c "$1" >/dev/null' _ "$raw"
        measure pigz_only - -- bash -c 'pigz -6 -p "$2" -c "$1" >/dev/null' _ "$raw" "$PIGZ_THREADS"
        measure sha256 - -- sha256sum "$backup"
        measure gunzip_only - -- bash -c 'gunzip -c "$1" >/dev/null' _ "$backup"
        measure pgbackup_verify - -- env BACKUP_DIR="$WORK/create" POSTGRES_DB=bench "$BIN/pgbackup" verify "$BACKUP_NAME"
    done
    rm -f "$raw"
}

restore_suite() {
    local backup=$WORK/create/$BACKUP_NAME run
    for ((run = 1; run <= RUNS; run++)); do
        say "restore, run $run of $RUNS"
        fresh_database restore_gunzip
        measure restore_gunzip - -- bash -c 'set -o pipefail; gunzip -c "$1" | psql -q -X -v ON_ERROR_STOP=1 -d "$2"' \
            _ "$backup" restore_gunzip
        check_restored restore_gunzip
        fresh_database restore_pgbackup
        measure restore_pgbackup - -- env BACKUP_DIR="$WORK/create" POSTGRES_DB=bench "$BIN/pgbackup" restore "$BACKUP_NAME" \
            --no-safety-backup --yes --target-db restore_pgbackup
        check_restored restore_pgbackup
    done
}

check_restored() {
    local got
    got=$(fingerprint "$1")
    [[ $got == "$SOURCE_FINGERPRINT" ]] || die "database $1 after restore: $got; the source has $SOURCE_FINGERPRINT"
    sql postgres "DROP DATABASE $1" >/dev/null
}
