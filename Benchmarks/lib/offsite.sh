# shellcheck shell=bash
# Off-site copies (issue 12): `pgbackup create` with BACKUP_REMOTE set against moto's S3 API on loopback
# (authentication on), against create alone plus a separate `rclone copyto` of the same file. Sourced by run.sh.
# Skipped, and said so in the report, when moto_server or rclone is missing.
# Single quotes are meant: markdown shows backquotes.
# shellcheck disable=SC2016

MOTO_SERVER=${PGBACKUP_MOTO_SERVER:-/opt/pgbackup-tools/bin/moto_server}
MOTO_PID=""
OFFSITE_SKIPPED=""

start_moto() {
    local port tries=0 keys access secret
    port=$(free_port)
    INITIAL_NO_AUTH_ACTION_COUNT=3 "$MOTO_SERVER" -H 127.0.0.1 -p "$port" >"$WORK/logs/moto.log" 2>&1 &
    MOTO_PID=$!
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        ((++tries < 100)) || die "moto did not start; see $WORK/logs/moto.log"
        sleep 0.1
    done
    keys=$(env -u AWS_CA_BUNDLE "$(dirname "$MOTO_SERVER")/python" "$REPO/deploy/lib/moto-provision.py" \
        "http://127.0.0.1:$port" pgbackup-bench) || die "setting up moto failed"
    read -r access secret <<<"$keys"
    (
        umask 077
        printf '[bench]\ntype = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = us-east-1\n' \
            "$access" "$secret" "http://127.0.0.1:$port" >"$WORK/rclone.conf"
    )
}

stop_moto() {
    if [[ -n $MOTO_PID ]]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
        MOTO_PID=""
    fi
}

# rclone as pgbackup runs it: its own environment, the config file only.
bench_rclone() {
    env -i PATH="$PATH" HOME="$WORK" rclone --config "$WORK/rclone.conf" "$@"
}

offsite_suite() {
    if [[ ! -x $MOTO_SERVER ]] || ! command -v rclone >/dev/null; then
        OFFSITE_SKIPPED="moto_server ($MOTO_SERVER) or rclone is not installed (see deploy/dependencies.sh)"
        say "off-site: skipped, $OFFSITE_SKIPPED"
        return
    fi
    start_moto
    mkdir -p "$WORK/create-remote"
    local run backup=$WORK/create/$BACKUP_NAME
    for ((run = 1; run <= RUNS; run++)); do
        say "off-site, run $run of $RUNS"
        clear_create_dir "$WORK/create-remote"
        measure pgbackup_create_remote "$WORK/create-remote" -- \
            env BACKUP_DIR="$WORK/create-remote" POSTGRES_DB=bench BACKUP_REMOTE="bench:pgbackup-bench/run$run" \
            BACKUP_RCLONE_CONFIG="$WORK/rclone.conf" "$BIN/pgbackup" create -d "benchmark run $run, off-site"
        measure rclone_copyto - -- env -i PATH="$PATH" HOME="$WORK" \
            rclone --config "$WORK/rclone.conf" copyto "$backup" "bench:pgbackup-bench/copy$run/$BACKUP_NAME"
    done
    local name
    name=$(basename "$(compgen -G "$WORK/create-remote/backup_*.sql.gz" | head -n 1)")
    bench_rclone lsf "bench:pgbackup-bench/run$RUNS" | grep -qx "$name.json" || die "the off-site copy of $name is missing"
    stop_moto
}

print_offsite_report() {
    printf '\n## Off-site copies (moto S3 API on loopback, authentication on; rclone %s)\n\n' \
        "$(rclone version 2>/dev/null | awk 'NR == 1 { print $2 }')"
    if [[ -n $OFFSITE_SKIPPED ]]; then
        printf 'Skipped: %s.\n' "$OFFSITE_SKIPPED"
        return
    fi
    local sum
    sum=$(calc "${R_WALL[pgbackup_create]} + ${R_WALL[rclone_copyto]}" 3)
    table_head '`gzip -6`'
    row '`pgbackup create` (no remote)' pgbackup_create gzip gzip
    row '`rclone copyto` of the same file' rclone_copyto gzip
    row '`pgbackup create` with `BACKUP_REMOTE`' pgbackup_create_remote gzip gzip
    printf '\nCreate with `BACKUP_REMOTE`: %s s, against create + `rclone copyto` %s s: %s × (target ≤ 1.1: %s). Peak RSS\n' \
        "${R_WALL[pgbackup_create_remote]}" "$sum" "$(ratio "${R_WALL[pgbackup_create_remote]}" "$sum")" \
        "$(verdict "${R_WALL[pgbackup_create_remote]} <= 1.1 * $sum")"
    printf 'with the upload %s MiB (the largest of pgbackup, pg_dump and rclone), rclone alone %s MiB.\n' \
        "${R_RSS[pgbackup_create_remote]}" "${R_RSS[rclone_copyto]}"
}
