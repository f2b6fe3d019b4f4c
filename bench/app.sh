#!/usr/bin/env bash
# The links app on a real MariaDB primary + GTID replica (scripts/dev-db.sh), same machine:
#   1. GET /r/{code} over CODES seeded codes, cache on (hot codes from memory)
#   2. the same with the cache off (cache-size 0): every redirect reads the replica
#   3. mixed: 90% redirects, 10% POST /api/links (writes on the primary)
#   4. the routing layer alone: the same point query through Database.queryOne vs a plain HikariCP
#      pool to the replica, in-process (ReadPathBench), alternating rounds; goal ratio >= 0.95
# foobar is pinned to core 1; wrk and both mariadbd to core 0. wrk -t1 -c${CONNECTIONS} for
# ${DURATION}s per run after a ${WARMUP}s warm-up. Reports req/s, p99 and non-2xx/3xx counts.
# Usage: bash bench/app.sh                 (env: CODES=10000 DURATION=20 WARMUP=15 CONNECTIONS=32)
set -euo pipefail
cd "$(dirname "$0")/.."
CODES=${CODES:-10000}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-15}
CONNECTIONS=${CONNECTIONS:-32}
POOL=${POOL:-16}
JVM_OPTS=${JVM_OPTS:--Xms160m -Xmx256m -Xmn96m -XX:+UseSerialGC}
export CODES

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
[ -f target/foobar.jar ] || mvn -B -q -ntp package -DskipTests

work=$(mktemp -d /tmp/foobar-bench-app.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  bash scripts/dev-db.sh stop "$work/db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bash scripts/dev-db.sh start "$work/db" >/dev/null
P=$(cat "$work/db/primary/port"); R=$(cat "$work/db/replica/port")
for node in primary replica; do taskset -pc 0 "$(cat "$work/db/$node/mysqld.pid")" >/dev/null; done
root() { mariadb --no-defaults --socket="$work/db/$1/mysqld.sock" -uroot foobar "${@:2}"; }

PORT=18091; ADMIN=18092
start_foobar() { # $1: cache-size
  cat > "$work/foobar.yml" <<CONF
backend:
  listen: 127.0.0.1:$PORT
  admin: 127.0.0.1:$ADMIN
  apps: {links: {prefix: /, config: {cache-size: $1}}}
database:
  primary: jdbc:mysql://127.0.0.1:$P/foobar
  replicas: [jdbc:mysql://127.0.0.1:$R/foobar]
  user: foobar
  password: foobar-dev
  pool-size: $POOL
CONF
  # shellcheck disable=SC2086
  taskset -c 1 java $JVM_OPTS -jar target/foobar.jar --role=backend --config="$work/foobar.yml" \
    > "$work/foobar.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$ADMIN/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "foobar did not become ready; log:" >&2; tail -20 "$work/foobar.log" >&2; exit 1
}
redirects=0
stop_foobar() { # adds the redirects this run answered (each one a counted click) to $redirects
  local n
  n=$(curl -fs "http://127.0.0.1:$ADMIN/metrics" | awk '/^foobar_app_links_redirects_total/ {s+=$2} END {printf "%d", s}')
  redirects=$((redirects + n))
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

wait_replica() {
  local gtid; gtid=$(root primary -N -e 'SELECT @@gtid_binlog_pos')
  root replica -N -e "SELECT MASTER_GTID_WAIT('$gtid', 60)" >/dev/null
}

# wrk once; prints "req/s p99_ms errors"
measure() { # $1 lua script, $2 seconds
  local out
  out=$(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"$2"s --latency -s "$1" "http://127.0.0.1:$PORT")
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
errs = re.search(r"Socket errors: .*", out)
print(f"{rps:.0f} {p99:.2f} {int(bad.group(1)) if bad else 0}{' ' + errs.group(0) if errs else ''}")
PY
}

start_foobar 100000
root primary -e "INSERT INTO links (code, url, created_at, clicks)
  SELECT CONCAT('c', seq), CONCAT('https://example.com/page/', seq), NOW(3), 0 FROM seq_1_to_$CODES"
wait_replica
echo "seeded $CODES links; primary :$P, replica :$R; foobar pinned to core 1, wrk + MariaDB to core 0"
printf '%-34s %10s %9s %8s\n' "case" "req/s" "p99 ms" "non-3xx"

measure bench/links-read.lua "$WARMUP" >/dev/null
read -r rps p99 bad rest <<<"$(measure bench/links-read.lua "$DURATION")"
printf '%-34s %10s %9s %8s %s\n' "GET /r/{code}, cache on" "$rps" "$p99" "$bad" "${rest:-}"
read -r rps p99 bad rest <<<"$(measure bench/links-mixed.lua "$DURATION")"
printf '%-34s %10s %9s %8s %s\n' "90% GET / 10% POST, cache on" "$rps" "$p99" "$bad" "${rest:-}"
stop_foobar

start_foobar 0
measure bench/links-read.lua "$WARMUP" >/dev/null
read -r rps p99 bad rest <<<"$(measure bench/links-read.lua "$DURATION")"
printf '%-34s %10s %9s %8s %s\n' "GET /r/{code}, cache off" "$rps" "$p99" "$bad" "${rest:-}"
cache_off=$rps
stop_foobar
clicks=$(root primary -N -e 'SELECT SUM(clicks) FROM links')
echo "clicks counted (redirects answered): $redirects; written to the primary after graceful stops: $clicks"

echo
echo "routing layer: Database.queryOne vs a plain HikariCP pool, same query, $POOL threads, pinned to core 1"
cp_file="$work/classpath"
# in one reactor run, so that foobar-core resolves to core/target/classes (nothing is installed)
mvn -B -q -ntp -pl replication -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
taskset -c 1 java -cp "replication/target/test-classes:replication/target/classes:$(cat "$cp_file")" \
  com.foobar.replication.ReadPathBench "jdbc:mysql://127.0.0.1:$P/foobar" "jdbc:mysql://127.0.0.1:$R/foobar" \
  foobar foobar-dev "$POOL" "${ROUND_SECONDS:-5}" "${ROUNDS:-5}" "$CODES" >"$work/jdbc.out" 2>"$work/jdbc.err" \
  || { cat "$work/jdbc.err" "$work/jdbc.out" >&2; exit 1; }
grep -v '^{' "$work/jdbc.out" | tee "$work/jdbc.txt"   # drop the pools' JSON log lines
plain=$(awk '$1 ~ /^[0-9]+$/ {print $2}' "$work/jdbc.txt" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "HTTP cache-off redirects / plain JDBC point queries (median round): $(python3 -c "print(f'{$cache_off/$plain:.3f}')")"
