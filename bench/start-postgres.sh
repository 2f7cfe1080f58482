#!/usr/bin/env bash
# make bench without DATABASE_URL: PostgreSQL on 127.0.0.1:5432, started as .ci/run does
# when it is not running (trust auth on loopback, user postgres).
set -euo pipefail
PGHOST=127.0.0.1
PGPORT=5432
if pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; then exit 0; fi
echo "bench: starting PostgreSQL"
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n1)
pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
for _ in $(seq 1 30); do pg_isready -h "$PGHOST" -p "$PGPORT" -q && break; sleep 1; done
pg_isready -h "$PGHOST" -p "$PGPORT"
