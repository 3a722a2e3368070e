# shellcheck shell=bash
# The create and restore measurements, and the runs that show where create's time goes. Sourced by run.sh.
# Single quotes are meant: bash -c scripts get their values as arguments, markdown shows backquotes.
# shellcheck disable=SC2016
# Its globals are read by the other files run.sh sources.
# shellcheck disable=SC2034

# pgbackup's own pg_dump options (PostgresTools.dumpCommand), so every baseline dumps the same SQL.
DUMP_FLAGS=(--format=plain --clean --if-exists --no-owner --no-acl)
PIGZ_THREADS=$(nproc)
# The zstd level of both the `zstd` baseline and pgbackup's zstd creates: zstd's default and pgbackup's.
ZSTD_LEVEL=3
# How many threads `zstd -T0` starts here (one per physical core), for the report.
ZSTD_THREADS=$({ printf 'x' | zstd -T0 -vv -c 2>&1 >/dev/null || true; } | grep -o -- '--threads=[0-9]*' | grep -o '[0-9]*$' || printf '?')
# pgbackup's gzip backup (in $WORK/create) and its zstd backup (in $WORK/create-zstd).
BACKUP_NAME=""
ZSTD_BACKUP_NAME=""
# 1 when `BACKUP_COMPRESSION=zstd` made a .sql.zst; 0 when this pgbackup still wrote .sql.gz (zstd not wired).
ZSTD_WIRED=0
# The zstd file the CLI baselines decode: pgbackup's zstd backup, or the `zstd` baseline's output when
# pgbackup wrote gzip.
ZSTD_FILE=""
# Set by check_backup: the name of the backup it checked, and what its sidecar records.
CHECKED_NAME=""

# pgbackup create's output directories hold one backup at a time: each run replaces the last.
clear_create_dir() {
    find "$1" -maxdepth 1 -name 'backup_*' -delete
}

# sidecar_value FILE FIELD: a string or number field of a sidecar; empty when absent or null.
sidecar_value() {
    grep -o "\"$2\" *: *\(\"[^\"]*\"\|[0-9]\+\)" "$1" | head -n 1 | sed 's/^[^:]*: *//; s/"//g' || true
}

# check_backup DIR CODEC: the one backup in DIR must be a valid CODEC file (gzip: `gzip -t`, zstd: `zstd -t`,
# which checks the frame checksum) holding exactly what its sidecar records: its size_bytes, its sha256, as
# many decoded bytes as uncompressed_bytes, and its compression (absent means gzip). Sets CHECKED_NAME.
check_backup() {
    local dir=$1 codec=$2 name file sidecar decode recorded got
    name=$(find "$dir" -maxdepth 1 \( -name 'backup_*.sql.gz' -o -name 'backup_*.sql.zst' \) -printf '%f\n' | head -n 1)
    [[ -n $name ]] || die "pgbackup create left no backup in $dir"
    file=$dir/$name
    sidecar=$file.json
    [[ -r $sidecar ]] || die "$name has no sidecar"
    decode=(gzip -dc)
    [[ $codec == zstd ]] && decode=(zstd -dcq)
    if [[ $codec == zstd ]]; then
        zstd -tq "$file" 2>"$WORK/logs/check-$name.err" || die "zstd -t rejects $name: $(cat "$WORK/logs/check-$name.err")"
    else
        gzip -t "$file" 2>"$WORK/logs/check-$name.err" || die "gzip -t rejects $name: $(cat "$WORK/logs/check-$name.err")"
    fi
    got=$("${decode[@]}" "$file" | wc -c)
    recorded=$(sidecar_value "$sidecar" uncompressed_bytes)
    [[ $got == "$recorded" ]] || die "${decode[*]} reads $got bytes from $name, its sidecar says ${recorded:-nothing}"
    got=$(stat -c %s "$file")
    recorded=$(sidecar_value "$sidecar" size_bytes)
    [[ $got == "$recorded" ]] || die "$name has $got bytes, its sidecar says ${recorded:-nothing}"
    got=$(sha256sum "$file" | cut -d ' ' -f 1)
    recorded=$(sidecar_value "$sidecar" sha256)
    [[ $got == "$recorded" ]] || die "$name has sha256 $got, its sidecar says ${recorded:-nothing}"
    recorded=$(sidecar_value "$sidecar" compression)
    [[ ${recorded:-gzip} == "$codec" ]] || die "the sidecar of $name records compression '$recorded', the file is $codec"
    CHECKED_NAME=$name
}

create_suite() {
    mkdir -p "$WORK/out" "$WORK/create" "$WORK/create-zstd"
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
        clear_create_dir "$WORK/create"
        measure pgbackup_create "$WORK/create" -- \
            env BACKUP_DIR="$WORK/create" POSTGRES_DB=bench "$BIN/pgbackup" create -d "benchmark run $run"
        measure zstd "$WORK/out/zstd.sql.zst" -- \
            bash -c 'set -o pipefail; pg_dump "${@:3}" | zstd -q -"$2" -T0 >"$1"' _ "$WORK/out/zstd.sql.zst" "$ZSTD_LEVEL" \
            "${DUMP_FLAGS[@]}"
        clear_create_dir "$WORK/create-zstd"
        measure pgbackup_create_zstd "$WORK/create-zstd" -- \
            env BACKUP_DIR="$WORK/create-zstd" POSTGRES_DB=bench BACKUP_COMPRESSION=zstd BACKUP_COMPRESSION_LEVEL="$ZSTD_LEVEL" \
            "$BIN/pgbackup" create -d "benchmark run $run, zstd"
        measure dump_null - -- bash -c 'pg_dump "$@" >/dev/null' _ "${DUMP_FLAGS[@]}"
    done
    # pgbackup's files must be ordinary gzip and zstd holding exactly the bytes their sidecars record.
    check_backup "$WORK/create" gzip
    BACKUP_NAME=$CHECKED_NAME
    UNCOMPRESSED_BYTES=$(sidecar_value "$WORK/create/$BACKUP_NAME.json" uncompressed_bytes)
    if compgen -G "$WORK/create-zstd/backup_*.sql.zst" >/dev/null; then
        ZSTD_WIRED=1
        check_backup "$WORK/create-zstd" zstd
        ZSTD_BACKUP_NAME=$CHECKED_NAME
        ZSTD_FILE=$WORK/create-zstd/$ZSTD_BACKUP_NAME
    else
        # This pgbackup does not know BACKUP_COMPRESSION yet: the backup is gzip at level ZSTD_LEVEL. The report
        # says so; the zstd CLI baselines then decode the `zstd` baseline's own file (the same dump).
        ZSTD_WIRED=0
        check_backup "$WORK/create-zstd" gzip
        ZSTD_BACKUP_NAME=$CHECKED_NAME
        ZSTD_FILE=$WORK/out/zstd.sql.zst
        say "BACKUP_COMPRESSION=zstd made $ZSTD_BACKUP_NAME: this pgbackup does not write zstd yet"
    fi
    zstd -tq "$ZSTD_FILE" || die "zstd -t rejects $ZSTD_FILE"
    say "plain dump: $(mib "$UNCOMPRESSED_BYTES") MiB; pgbackup's backups: $BACKUP_NAME, $ZSTD_BACKUP_NAME"
}

# Each stage of create on its own: dump to a file, compress that file single- and multi-threaded, hash the
# compressed output; and the read side of restore (decode only, and pgbackup verify), for both codecs.
breakdown_suite() {
    local raw=$WORK/out/raw.sql backup=$WORK/create/$BACKUP_NAME run
    for ((run = 1; run <= RUNS; run++)); do
        say "breakdown, run $run of $RUNS"
        measure dump_file "$raw" -- bash -c 'pg_dump "${@:2}" >"$1"' _ "$raw" "${DUMP_FLAGS[@]}"
        measure gzip_only - -- bash -c 'gzip -6 -c "$1" >/dev/null' _ "$raw"
        measure pigz_only - -- bash -c 'pigz -6 -p "$2" -c "$1" >/dev/null' _ "$raw" "$PIGZ_THREADS"
        measure zstd_only - -- bash -c 'zstd -q -"$2" -T0 -c "$1" >/dev/null' _ "$raw" "$ZSTD_LEVEL"
        measure sha256 - -- sha256sum "$backup"
        measure gunzip_only - -- bash -c 'gunzip -c "$1" >/dev/null' _ "$backup"
        measure pgbackup_verify - -- env BACKUP_DIR="$WORK/create" POSTGRES_DB=bench "$BIN/pgbackup" verify "$BACKUP_NAME"
        measure unzstd_only - -- bash -c 'zstd -q -dc "$1" >/dev/null' _ "$ZSTD_FILE"
        measure pgbackup_verify_zstd - -- \
            env BACKUP_DIR="$WORK/create-zstd" POSTGRES_DB=bench "$BIN/pgbackup" verify "$ZSTD_BACKUP_NAME"
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
        # A drill (issue 15's parallel load) loads into a scratch database it drops, after counting every table's
        # rows against the sidecar: one session, then the default (this machine's CPU count, at most 8).
        measure drill_jobs1 - -- env BACKUP_DIR="$WORK/create" POSTGRES_DB=bench BACKUP_RESTORE_JOBS=1 \
            BACKUP_DRILL_DATABASE=bench_drill "$BIN/pgbackup" drill "$BACKUP_NAME"
        measure drill_default - -- env -u BACKUP_RESTORE_JOBS BACKUP_DIR="$WORK/create" POSTGRES_DB=bench \
            BACKUP_DRILL_DATABASE=bench_drill "$BIN/pgbackup" drill "$BACKUP_NAME"
        # restore --swap (issue 15): into a new database loaded on the default sessions, checked, swapped in for
        # an existing (empty) target; the replaced database is not kept, so nothing accumulates between runs.
        fresh_database restore_swap
        measure restore_swap - -- env -u BACKUP_RESTORE_JOBS BACKUP_DIR="$WORK/create" POSTGRES_DB=bench \
            BACKUP_KEEP_PREVIOUS_DATABASES=0 "$BIN/pgbackup" restore "$BACKUP_NAME" --swap --yes --target-db restore_swap
        check_restored restore_swap
        fresh_database restore_unzstd
        measure restore_unzstd - -- bash -c 'set -o pipefail; zstd -q -dc "$1" | psql -q -X -v ON_ERROR_STOP=1 -d "$2"' \
            _ "$ZSTD_FILE" restore_unzstd
        check_restored restore_unzstd
        fresh_database restore_pgbackup_zstd
        measure restore_pgbackup_zstd - -- env BACKUP_DIR="$WORK/create-zstd" POSTGRES_DB=bench "$BIN/pgbackup" restore \
            "$ZSTD_BACKUP_NAME" --no-safety-backup --yes --target-db restore_pgbackup_zstd
        check_restored restore_pgbackup_zstd
    done
}

check_restored() {
    local got
    got=$(fingerprint "$1")
    [[ $got == "$SOURCE_FINGERPRINT" ]] || die "database $1 after restore: $got; the source has $SOURCE_FINGERPRINT"
    sql postgres "DROP DATABASE $1" >/dev/null
}
