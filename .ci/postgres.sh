#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the storage tests and export NEWSWATCH_TEST_PG_URL.
# Sourced by .ci/run. Installs Debian's server package when it is missing. The server listens on
# a Unix socket in a temporary directory only, and is stopped when the sourcing shell exits.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$pg_bin" ]; then
  echo "postgres.sh: no PostgreSQL server available; PostgreSQL storage tests will not run" >&2
  return 0 2>/dev/null || exit 0
fi
pg_dir=$(mktemp -d /tmp/newswatch-pg.XXXXXX)
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pg_dir"
run_pg "'$pg_bin/initdb' -D '$pg_dir/data' -A trust -U postgres" >/dev/null
run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -l '$pg_dir/log' -w -o \"-k $pg_dir -p 55432 -c listen_addresses=''\" start" >/dev/null
run_pg "'$pg_bin/createdb' -h '$pg_dir' -p 55432 -U postgres nw"
export NEWSWATCH_TEST_PG_URL="postgresql+psycopg://postgres@/nw?host=$pg_dir&port=55432"
trap "run_pg \"'$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop\" >/dev/null 2>&1; rm -rf '$pg_dir'" EXIT
echo "postgres.sh: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on $pg_dir" >&2
