#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# pgbackup's benchmark (issue 5): one command that builds pgbackup, starts a throwaway PostgreSQL, makes a
# deterministic sample database, and times pgbackup against the usual shell pipelines. See Benchmarks/README.md.
#
#   Benchmarks/run.sh [--size tiny|small|medium | --size-mb N] [--build release|debug | --bin-dir DIR]
#                     [--runs N] [--wrk-seconds N] [--backups N] [--work-dir DIR] [--keep]
#
# The markdown report goes to stdout, progress to stderr. Everything it starts is stopped on exit.
set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
source "$BENCH_DIR/lib/common.sh"
# shellcheck source=../deploy/lib/throwaway-postgres.sh
source "$REPO/deploy/lib/throwaway-postgres.sh"
source "$BENCH_DIR/lib/cluster.sh"
source "$BENCH_DIR/lib/dumps.sh"
source "$BENCH_DIR/lib/api.sh"
source "$BENCH_DIR/lib/report.sh"
# Encryption at rest (issue 13): its own suite and report block.
source "$BENCH_DIR/lib/encryption.sh"
source "$BENCH_DIR/lib/offsite.sh"

usage() {
    cat >&2 <<'EOF'
usage: Benchmarks/run.sh [options]
  --size tiny|small|medium  sample database: tiny ≈ 8 MB of plain dump (CI), small ≈ 100 MB, medium ≈ 650 MB
                            (default: small)
  --size-mb N               a plain dump of about N MB instead
  --build release|debug     build pgbackup with swift build (default: release)
  --bin-dir DIR             use the pgbackup and pgbackup-fcgi binaries in DIR, build nothing
  --runs N                  runs of each timed command; the best is reported (default: 2)
  --wrk-seconds N           duration of each wrk run (default: 10; 2 for tiny)
  --backups N               backups present for the list/status runs (default: 1000)
  --work-dir DIR            parent of the scratch directory (default: $TMPDIR or /tmp)
  --keep                    keep the scratch directory (logs, outputs) instead of deleting it
EOF
    exit 2
}

SIZE_NAME=small
SIZE_MB=""
BUILD=release
BIN=""
RUNS=2
WRK_SECONDS=""
BACKUP_COUNT=1000
WORK_PARENT=${TMPDIR:-/tmp}
KEEP=0
COMMAND_LINE="Benchmarks/run.sh $*"

while (($#)); do
    case $1 in
    --size)
        (($# >= 2)) || usage
        SIZE_NAME=$2
        shift 2
        ;;
    --size-mb)
        (($# >= 2)) || usage
        SIZE_NAME=custom
        SIZE_MB=$2
        shift 2
        ;;
    --build)
        (($# >= 2)) || usage
        BUILD=$2
        shift 2
        ;;
    --bin-dir)
        (($# >= 2)) || usage
        BIN=$2
        shift 2
        ;;
    --runs)
        (($# >= 2)) || usage
        RUNS=$2
        shift 2
        ;;
    --wrk-seconds)
        (($# >= 2)) || usage
        WRK_SECONDS=$2
        shift 2
        ;;
    --backups)
        (($# >= 2)) || usage
        BACKUP_COUNT=$2
        shift 2
        ;;
    --work-dir)
        (($# >= 2)) || usage
        WORK_PARENT=$2
        shift 2
        ;;
    --keep)
        KEEP=1
        shift
        ;;
    -h | --help) usage ;;
    *)
        printf 'run.sh: unknown option %s\n' "$1" >&2
        usage
        ;;
    esac
done

whole_number() {
    [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1))
}

case $SIZE_NAME in
tiny) SIZE_MB=8 ;;
small) SIZE_MB=100 ;;
medium) SIZE_MB=650 ;;
custom) ;;
*) die "unknown size '$SIZE_NAME' (tiny, small, medium, or --size-mb N)" ;;
esac
whole_number "$SIZE_MB" || die "--size-mb needs a whole number of MB ≥ 1"
whole_number "$RUNS" || die "--runs needs a whole number ≥ 1"
whole_number "$BACKUP_COUNT" || die "--backups needs a whole number ≥ 1"
if [[ -z $WRK_SECONDS ]]; then
    WRK_SECONDS=10
    [[ $SIZE_NAME == tiny ]] && WRK_SECONDS=2
fi
whole_number "$WRK_SECONDS" || die "--wrk-seconds needs a whole number ≥ 1"
[[ $BUILD == release || $BUILD == debug ]] || die "--build is release or debug"

for tool in pg_dump pg_ctl initdb pgbench psql gzip gunzip pigz zstd wrk nginx curl openssl sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not installed (see deploy/dependencies.sh)"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is not installed (Debian package: time)"

WORK=""
cleanup() {
    local status=$?
    set +e
    kill_load_loop
    stop_moto
    stop_front
    stop_cluster
    if [[ -n $WORK && -d $WORK ]]; then
        if ((KEEP)); then
            say "kept $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$status"
}
trap cleanup EXIT
# A command that fails under set -e says which one it was.
set -E
trap 'printf "run.sh: failed (status %s): %s\n" "$?" "$BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

START_LOAD=$(cut -d ' ' -f 1-3 /proc/loadavg)
if [[ -n $BIN ]]; then
    BIN=$(cd "$BIN" && pwd)
    BUILD_NOTE="binaries from $BIN"
else
    say "building pgbackup ($BUILD)"
    for product in pgbackup pgbackup-fcgi; do
        (cd "$REPO" && swift build -c "$BUILD" --product "$product" >&2) || die "swift build failed"
    done
    BIN=$(cd "$REPO" && swift build -c "$BUILD" --show-bin-path)
    BUILD_NOTE="swift build -c $BUILD"
fi
for binary in pgbackup pgbackup-fcgi; do
    [[ -x $BIN/$binary ]] || die "no $binary in $BIN"
done
SWIFT_VERSION=$(swift --version 2>/dev/null | head -n 1 || printf 'swift unknown')
GIT_REVISION=$(git -C "$REPO" describe --always --dirty 2>/dev/null || printf 'unknown')

WORK=$(mktemp -d "$WORK_PARENT/pgbackup-bench.XXXXXX")
# PostgreSQL (as postgres) and nginx's workers (as www-data) must traverse it; nothing in it is secret.
chmod 0711 "$WORK"
mkdir -p "$WORK/logs"
say "scratch directory $WORK"

# pgbackup reads nothing but what is set here: no system env file, generous retention so the API's backups
# and the benchmark's own are never deleted, and none of the caller's libpq settings.
unset PGDATABASE PGSERVICE PGOPTIONS PGPASSWORD PGPASSFILE PGSSLMODE POSTGRES_PASSWORD POSTGRES_PASSWORD_FILE
: >"$WORK/empty.env"
export PGBACKUP_ENV_FILE=$WORK/empty.env
export BACKUP_RETENTION_DAYS=3650 BACKUP_MAX_COUNT=1000000 BACKUP_COMPRESSION_LEVEL=6
# pgbackup's default codec, gzip, unless a measurement says otherwise (the zstd creates set
# BACKUP_COMPRESSION=zstd and their own level).
unset BACKUP_COMPRESSION

start_cluster
generate_data
create_suite
encryption_suite
offsite_suite
breakdown_suite
restore_suite
api_suite
stop_cluster

print_report
print_encryption_report
print_offsite_report
