#!/usr/bin/env bash
# Installs the Debian packages and the Python tool that building, running and testing pgbackup need.
# Idempotent; used by .ci/run (the quick start installs only what it needs itself). Needs root (or sudo).
set -euo pipefail

packages=(
    libfcgi-dev zlib1g-dev pkg-config            # C libraries pgbackup links
    libdeflate-dev libzstd-dev                   # gzip encoding and the zstd codec
    postgresql-15 postgresql-client-15           # pg_dump/psql, and a server for tests and the quick start
    nginx-light openssl apache2-utils            # TLS + basic auth in front of the responder
    spawn-fcgi curl wrk pigz time procps psmisc  # tests and benchmark
    zstd python3                                 # the codec tests and the benchmark check our output with them
    shellcheck systemd util-linux
    libfcgi-bin                                  # cgi-fcgi: tests talk FastCGI to the responder without nginx
    rclone                                       # off-site copies in object storage
    age                                          # encryption at rest
    prometheus                                   # promtool checks the metrics exposition
    chromium chromium-driver python3-selenium    # the cross-site request test drives a headless browser
)

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "Run as root, or install: ${packages[*]}" >&2
        exit 1
    fi
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# nginx (port 80) and prometheus (9090) may start as services; pgbackup never uses them.
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    "${sudo_cmd[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
    "${sudo_cmd[@]}" systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi

# Schemathesis (API fuzzing against docs/openapi.yaml) in a private virtualenv.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends python3 python3-venv
fi
venv="${PGBACKUP_TOOLS_VENV:-/opt/pgbackup-tools}"
if [[ ! -x "$venv/bin/python3" ]]; then
    "${sudo_cmd[@]}" python3 -m venv "$venv"
fi
# schemathesis fuzzes the API; moto's server is a real S3 API on loopback for the off-site tests.
if [[ ! -x "$venv/bin/schemathesis" && ! -x "$venv/bin/st" ]]; then
    "${sudo_cmd[@]}" "$venv/bin/pip" install --quiet schemathesis
fi
if [[ ! -x "$venv/bin/moto_server" ]]; then
    "${sudo_cmd[@]}" "$venv/bin/pip" install --quiet 'moto[server]'
fi
