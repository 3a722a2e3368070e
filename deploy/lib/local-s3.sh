# shellcheck shell=bash
# Sourced by quickstart.sh: `--with-s3` starts moto's S3 API on loopback (authentication on: only the first
# three IAM calls are unsigned, enough to make a user, its policy and its access key), creates a bucket with that
# key, writes an rclone config (0600) for it and points BACKUP_REMOTE at it, so off-site copies work at once.
# moto keeps everything in memory: a restart starts an empty remote (run `pgbackup push` to fill it again).
# Sourced, never run: it defines functions and nothing else; the caller defines state, log_dir and env_file and
# script_dir and the helpers say, note, die, alive, program_of, show and port_in_use.
# shellcheck disable=SC2154
set -euo pipefail

readonly moto_server=${PGBACKUP_MOTO_SERVER:-/opt/pgbackup-tools/bin/moto_server}
readonly s3_port=${PGBACKUP_QUICKSTART_S3_PORT:-9100}
readonly s3_bucket=pgbackup-quickstart
s3_pid_file() { printf '%s/moto.pid' "$state"; }
s3_config() { printf '%s/rclone.conf' "$state"; }

stop_local_s3() {
    local pid_file pid
    pid_file=$(s3_pid_file)
    [[ -f $pid_file ]] || return 0
    pid=$(<"$pid_file")
    if alive "$pid" && [[ $(program_of "$pid") == moto_server || $(tr '\0' ' ' <"/proc/$pid/cmdline") == *moto_server* ]]; then
        kill "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
}

start_local_s3() {
    [[ -x $moto_server ]] || die "--with-s3 needs moto_server ($moto_server): run deploy/dependencies.sh"
    command -v rclone >/dev/null || die "--with-s3 needs rclone: run deploy/dependencies.sh"
    local python keys access secret
    python=$(dirname "$moto_server")/python
    stop_local_s3
    ! port_in_use "$s3_port" || die "port $s3_port (PGBACKUP_QUICKSTART_S3_PORT) is in use"
    say "starting a local S3 API (moto) on 127.0.0.1:$s3_port"
    INITIAL_NO_AUTH_ACTION_COUNT=3 setsid "$moto_server" -H 127.0.0.1 -p "$s3_port" >"$log_dir/moto.log" 2>&1 &
    echo $! >"$(s3_pid_file)"
    local tries=0
    until port_in_use "$s3_port"; do
        ((++tries < 100)) || die "moto did not start; see $log_dir/moto.log"
        sleep 0.1
    done
    keys=$(env -u AWS_CA_BUNDLE "$python" "$script_dir/lib/moto-provision.py" "http://127.0.0.1:$s3_port" "$s3_bucket") \
        || die "setting up the local S3 API failed; see $log_dir/moto.log"
    read -r access secret <<<"$keys"
    (
        umask 077
        printf '[offsite]\ntype = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = us-east-1\n' \
            "$access" "$secret" "http://127.0.0.1:$s3_port" >"$(s3_config).new"
    )
    mv -f "$(s3_config).new" "$(s3_config)"
    printf 'BACKUP_REMOTE=offsite:%s/quickstart\nBACKUP_RCLONE_CONFIG=%s\n' "$s3_bucket" "$(s3_config)" >>"$env_file"
    note "off-site copies go to offsite:$s3_bucket/quickstart (rclone config $(show "$(s3_config)"), 0600)"
}
