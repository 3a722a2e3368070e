#!/usr/bin/env bash
# backup-database.sh — the seed's command-line entry point, kept for compatibility.
# It has no logic of its own: it finds the pgbackup binary and execs it with the same arguments.
#   ./backup-database.sh create --description "Before major update"
#   ./backup-database.sh list | restore NAME | drill [NAME] | delete NAME | cleanup | status [--check] | verify NAME|--all
# Settings come from the environment and an env file, which pgbackup reads itself (KEY=VALUE lines, never
# executed): --env-file, else PGBACKUP_ENV_FILE, else a .env file beside this script, else /etc/pgbackup/pgbackup.env.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -z "${PGBACKUP_ENV_FILE:-}" && -f "$here/.env" ]]; then
    export PGBACKUP_ENV_FILE="$here/.env"
fi

bin=""
if [[ -n "${PGBACKUP_BIN:-}" ]]; then
    bin="$PGBACKUP_BIN"
elif command -v pgbackup >/dev/null 2>&1; then
    bin="$(command -v pgbackup)"
else
    for candidate in "$here/.build/release/pgbackup" "$here/.build/debug/pgbackup"; do
        if [[ -x "$candidate" ]]; then
            bin="$candidate"
            break
        fi
    done
fi

if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "backup-database.sh: the pgbackup binary was not found." >&2
    echo "Install it (deploy/install.sh) or build it: swift build -c release" >&2
    exit 1
fi

exec "$bin" "$@"
