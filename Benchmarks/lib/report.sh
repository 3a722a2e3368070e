# shellcheck shell=bash
# The markdown report run.sh prints on stdout. Sourced by run.sh.
# Single quotes are meant: bash -c scripts get their values as arguments, markdown shows backquotes.
# shellcheck disable=SC2016

ratio() {
    calc "$1 / $2" 2
}

# A create/restore row: LABEL ID BASELINE_ID [SIZE_BASELINE_ID]
# BACKUP_RESTORE_JOBS's default on this machine: its CPU count, at most 8.
restore_jobs_default() {
    local cpus
    cpus=$(nproc)
    printf '%s' $((cpus < 8 ? cpus : 8))
}

row() {
    local label=$1 id=$2 base=$3 size_base=${4:-} size="" size_ratio=""
    if [[ -n ${R_SIZE[$id]:-} ]]; then
        size=$(mib "${R_SIZE[$id]}")
        [[ -n $size_base ]] && size_ratio=$(ratio "${R_SIZE[$id]}" "${R_SIZE[$size_base]}")
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${R_WALL[$id]}" "${R_RUNS[$id]}" \
        "$(ratio "${R_WALL[$id]}" "${R_WALL[$base]}")" "${size:--}" "${size_ratio:--}" "${R_RSS[$id]}" "${R_CPU[$id]}" \
        "${R_SERVER_CPU[$id]}" "${R_LOAD[$id]}"
}

# A figure over its target, or n/a when it could not be measured.
target_ratio() {
    if [[ $1 == n/a ]]; then printf 'n/a'; else ratio "$1" "$2"; fi
}

table_head() {
    printf '| operation | wall s (best) | runs s | ratio to %s | output MiB | size ratio to gzip -6 | peak RSS MiB | CPU s | server CPU s | load |\n' "$1"
    printf '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n'
}

# verdict CONDITION: "met" when the awk CONDITION holds; a figure that could not be measured ("n/a") fails.
verdict() {
    if [[ $1 != *n/a* ]] && (($(calc "$1" 0))); then printf 'met'; else printf '**NOT met**'; fi
}

print_report() {
    local cpu memory
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    memory=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    cat <<EOF
# pgbackup benchmark

- Command: \`$COMMAND_LINE\`
- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load (1/5/15 min) at start: $START_LOAD, at end: $(cut -d ' ' -f 1-3 /proc/loadavg)
- Machine: $(nproc) CPUs ($cpu), $memory RAM, $(uname -sr)
- Versions: $SWIFT_VERSION; pgbackup $GIT_REVISION ($BUILD_NOTE); $(pg_dump --version); $(psql --version);
  gzip $(gzip --version | awk 'NR == 1 { print $2 }'); $(pigz --version 2>&1); zstd $(zstd --version | grep -o 'v[0-9.]*' | head -n 1); $(nginx -v 2>&1 | sed 's/^nginx version: //'); $({ wrk -v 2>&1 || true; } | awk 'NR == 1 { print $1, $2 }')
- Data: size $SIZE_NAME (target $SIZE_MB MB of plain dump): $DATA_DESCRIPTION; database $(mib "$DB_SIZE_BYTES") MiB
  on disk; plain dump $(mib "$UNCOMPRESSED_BYTES") MiB. Throwaway cluster with fsync=off, synchronous_commit=off,
  full_page_writes=off, autovacuum=off (durability is irrelevant for it; both restore methods get the same settings).
- Method: every command ran $RUNS times, the runs of all commands interleaved, after one untimed warm-up dump
  (the cache is warm; it cannot be dropped here). "wall s" is the best run, "runs s" all of them. Peak RSS is
  \`/usr/bin/time -v\`'s maximum: for a pipeline, its largest process; for pgbackup, pgbackup or its pg_dump/psql.
  CPU s is user+system of the command and its children; server CPU s is the PostgreSQL server's over the same
  time (its postmaster and exited backends, from /proc). load is the 1-minute load
  average just before the best run (other people build on this machine: compare it with $(nproc) CPUs).

## Create (pg_dump options as pgbackup's: ${DUMP_FLAGS[*]})

EOF
    table_head '`gzip -6`'
    row '`pg_dump \| gzip -6` (baseline)' gzip gzip gzip
    row "\`pg_dump \\| pigz -6\` ($PIGZ_THREADS threads)" pigz gzip gzip
    row '`pg_dump -Fc`' custom gzip gzip
    row '`pgbackup create`' pgbackup_create gzip gzip
    row "\`pg_dump \\| zstd -$ZSTD_LEVEL -T0\` ($ZSTD_THREADS threads)" zstd gzip gzip
    row "\`pgbackup create\` with \`BACKUP_COMPRESSION=zstd\` (level $ZSTD_LEVEL)$(zstd_note)" pgbackup_create_zstd gzip gzip
    if ((!ZSTD_WIRED)); then
        printf '\n'
        zstd_not_wired
    fi

    printf '\n## Where create time goes (each stage alone; ratio to `pg_dump | gzip -6`)\n\n'
    table_head '`gzip -6`'
    row '`pg_dump > /dev/null`' dump_null gzip
    row '`pg_dump > file`' dump_file gzip gzip
    row '`gzip -6 < file > /dev/null`' gzip_only gzip
    row "\`pigz -6 -p $PIGZ_THREADS < file > /dev/null\`" pigz_only gzip
    row "\`zstd -$ZSTD_LEVEL -T0 < file > /dev/null\` ($ZSTD_THREADS threads)" zstd_only gzip
    row '`sha256sum backup.sql.gz`' sha256 gzip
    row "\`zstd -dc backup.sql.zst > /dev/null\`$(zstd_file_note)" unzstd_only gzip
    row "\`pgbackup verify\` of the zstd backup$(zstd_note)" pgbackup_verify_zstd gzip

    printf '\n## Verify (the gzip backup: SHA-256, then libdeflate on every core, whole members, in order;'
    printf ' target ≤ 0.25 × `gunzip -c FILE > /dev/null`)\n\n'
    table_head '`gunzip -c`'
    row '`gunzip -c backup.sql.gz > /dev/null`' gunzip_only gunzip_only
    row '`pgbackup verify`' pgbackup_verify gunzip_only

    printf '\n## Restore (each run into a fresh database; row counts and a checksum compared with the source)\n\n'
    table_head '`gunzip \| psql`'
    row '`gunzip -c f \| psql -q -X -v ON_ERROR_STOP=1` (baseline)' restore_gunzip restore_gunzip
    row '`pgbackup restore --no-safety-backup --yes`' restore_pgbackup restore_gunzip
    row '`pgbackup drill` (`BACKUP_RESTORE_JOBS=1`; loads, then counts every table)' drill_jobs1 restore_gunzip
    row "\`pgbackup drill\` (default: $(restore_jobs_default) sessions; loads, then counts every table)" drill_default \
        restore_gunzip
    row "\`pgbackup restore --swap\` (default: $(restore_jobs_default) sessions; load, count check, rename)" restore_swap \
        restore_gunzip
    printf '\n'
    table_head '`zstd -dc \| psql`'
    row "\`zstd -dc f \\| psql -q -X -v ON_ERROR_STOP=1\` (baseline)$(zstd_file_note)" restore_unzstd restore_unzstd
    row "\`pgbackup restore --no-safety-backup --yes\` of the zstd backup$(zstd_note)" restore_pgbackup_zstd restore_unzstd

    cat <<EOF

## list/status through nginx ($BACKUP_COUNT backups; \`wrk -t2 -c16 -d${WRK_SECONDS}s --timeout 10s --latency\`, HTTPS + basic auth)

"busy" = while \`pgbackup create\` of the benchmark database runs back to back in the same backup directory, each in a
session of its own as the scheduler's service and async jobs run (it then lowers its session's CPU weight);
"backup running" is the share of wrk's window during which one was running.

| request | while | requests | req/s | p50 ms | p99 ms | p99 / 20 ms | errors | backup running | load |
|---|---|---:|---:|---:|---:|---:|---|---:|---:|
EOF
    local id path when
    for id in list_idle listgz_idle status_idle static_idle list_busy listgz_busy status_busy; do
        path='GET /api/backups'
        [[ $id == listgz_* ]] && path='GET /api/backups, Accept-Encoding: gzip'
        [[ $id == status_* ]] && path='GET /api/backups/status'
        [[ $id == static_* ]] && path='GET a static file of the same list, served by nginx itself (the floor)'
        when=idle
        [[ $id == *_busy ]] && when=busy
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$path" "$when" "${W_REQUESTS[$id]}" "${W_RPS[$id]}" "${W_P50[$id]}" \
            "${W_P99[$id]}" "$(target_ratio "${W_P99[$id]}" 20)" "${W_ERRORS[$id]}" "${W_COVER[$id]:+${W_COVER[$id]} %}" \
            "${W_LOAD[$id]}"
    done
    printf '\nResponder (pgbackup-fcgi, 8 workers) peak RSS: %s MiB.\n' "$(calc "$RESPONDER_HWM_KB / 1024" 1)"
    cat <<EOF

The floor row serves the uncompressed list's bytes ($(mib "$STATIC_LIST_BYTES" 2) MiB) as a file nginx reads itself, in the
same server block (TLS, basic auth), with no responder: what 16 connections pulling that much through TLS cost
on this machine, whatever answers behind nginx.
EOF

    print_targets
}

# The zstd rows' note when this pgbackup wrote gzip for BACKUP_COMPRESSION=zstd.
zstd_note() {
    ((ZSTD_WIRED)) || printf ' (wrote .sql.gz: zstd not wired)'
}

zstd_not_wired() {
    printf '**zstd is not wired into this pgbackup**: with `BACKUP_COMPRESSION=zstd` it wrote `%s`, gzip at level %s, ' \
        "$ZSTD_BACKUP_NAME" "$ZSTD_LEVEL"
    printf '%s\n' "so its zstd rows measure that gzip file and the zstd CLI rows read the \`zstd\` baseline's own file."
}

# The zstd CLI rows decode pgbackup's zstd backup, or the `zstd` baseline's file when there is none.
zstd_file_note() {
    ((ZSTD_WIRED)) || printf ' (the `zstd` baseline'"'"'s file: zstd not wired)'
}

# target_row TEXT MEASURED CONDITION [zstd]: one row of the targets table. A zstd target is not judged when
# this pgbackup wrote gzip for it.
target_row() {
    local verdict_text
    if [[ ${4:-} == zstd ]] && ((!ZSTD_WIRED)); then
        verdict_text='n/a: zstd not wired (the backup is .sql.gz)'
    else
        verdict_text=$(verdict "$3")
    fi
    printf '| %s | %s | %s |\n' "$1" "$2" "$verdict_text"
}

# The targets of DESIGN.md's "Performance targets" (issue 11), met or not.
print_targets() {
    local create_gzip create_zstd zstd_floor size_gzip size_zstd restore_gzip restore_zstd verify_gzip
    create_gzip=$(ratio "${R_WALL[pgbackup_create]}" "${R_WALL[gzip]}")
    create_zstd=$(ratio "${R_WALL[pgbackup_create_zstd]}" "${R_WALL[gzip]}")
    zstd_floor=$(ratio "${R_WALL[pgbackup_create_zstd]}" "${R_WALL[dump_null]}")
    size_gzip=$(ratio "${R_SIZE[pgbackup_create]}" "${R_SIZE[gzip]}")
    size_zstd=$(ratio "${R_SIZE[pgbackup_create_zstd]}" "${R_SIZE[gzip]}")
    restore_gzip=$(ratio "${R_WALL[restore_pgbackup]}" "${R_WALL[restore_gunzip]}")
    restore_zstd=$(ratio "${R_WALL[restore_pgbackup_zstd]}" "${R_WALL[restore_unzstd]}")
    verify_gzip=$(ratio "${R_WALL[pgbackup_verify]}" "${R_WALL[gunzip_only]}")
    printf '\n## Targets\n\n| target | measured | |\n|---|---|---|\n'
    target_row 'create, gzip ≤ 0.45 × `pg_dump \| gzip -6`' "$create_gzip ×" \
        "${R_WALL[pgbackup_create]} <= 0.45 * ${R_WALL[gzip]}"
    target_row "create, gzip: size ≤ 1.01 × gzip -6's" "$size_gzip ×" "${R_SIZE[pgbackup_create]} <= 1.01 * ${R_SIZE[gzip]}"
    target_row 'create, zstd ≤ 0.35 × `pg_dump \| gzip -6`' "$create_zstd ×" \
        "${R_WALL[pgbackup_create_zstd]} <= 0.35 * ${R_WALL[gzip]}" zstd
    target_row 'create, zstd ≤ 1.25 × `pg_dump > /dev/null`' "$zstd_floor ×" \
        "${R_WALL[pgbackup_create_zstd]} <= 1.25 * ${R_WALL[dump_null]}" zstd
    target_row "create, zstd: size ≤ 0.80 × gzip -6's" "$size_zstd ×" \
        "${R_SIZE[pgbackup_create_zstd]} <= 0.80 * ${R_SIZE[gzip]}" zstd
    target_row 'restore, gzip ≤ 1.0 × `gunzip -c \| psql`' "$restore_gzip ×" \
        "${R_WALL[restore_pgbackup]} <= ${R_WALL[restore_gunzip]}"
    target_row 'restore, zstd ≤ 1.0 × `zstd -dc \| psql`' "$restore_zstd ×" \
        "${R_WALL[restore_pgbackup_zstd]} <= ${R_WALL[restore_unzstd]}" zstd
    target_row 'restore --swap ≤ 0.75 × `gunzip -c \| psql`' "$(ratio "${R_WALL[restore_swap]}" "${R_WALL[restore_gunzip]}") ×" \
        "${R_WALL[restore_swap]} <= 0.75 * ${R_WALL[restore_gunzip]}"
    target_row 'verify ≤ 0.25 × `gunzip -c FILE > /dev/null` (the same gzip file)' "$verify_gzip ×" \
        "${R_WALL[pgbackup_verify]} <= 0.25 * ${R_WALL[gunzip_only]}"
    local id
    for id in list_idle listgz_idle status_idle list_busy listgz_busy status_busy; do
        target_row "${id/_/ } p99 ≤ 20 ms" "${W_P99[$id]} ms" "${W_P99[$id]} <= 20"
    done
    # Every pgbackup operation the benchmark timed, and the responder after all the wrk runs.
    local figures="" condition="$RESPONDER_HWM_KB <= 65536"
    for id in pgbackup_create pgbackup_create_zstd pgbackup_verify pgbackup_verify_zstd restore_pgbackup restore_pgbackup_zstd \
        restore_swap; do
        figures+="${R_RSS[$id]}, "
        condition+=" && ${R_RSS[$id]} <= 64"
    done
    target_row 'peak RSS ≤ 64 MiB: create gzip/zstd, verify gzip/zstd, restore gzip/zstd, restore --swap, responder' \
        "$figures$(calc "$RESPONDER_HWM_KB / 1024" 1) MiB" "$condition"
}
