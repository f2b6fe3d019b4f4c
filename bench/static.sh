#!/usr/bin/env bash
# Static files: foobar backend vs nginx (1 worker), same files, same machine, same run.
# Each server is pinned alone to core 1, wrk to core 0: wrk -t1 -c64 -d${DURATION}s after a warm-up,
# runs alternate between the two servers and the median of ${ROUNDS} rounds is reported.
# foobar is warmed up with 2 x ${WARMUP}s per file first (JIT), nginx with 2 x 3s.
# Also reports foobar's launch-to-/ready time, its RSS after the runs, and the jar size.
# Usage: bash bench/static.sh            (env: ROUNDS=3 DURATION=10 WARMUP=10)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-20}
JVM_OPTS=${JVM_OPTS:--Xms160m -Xmx256m -Xmn96m -XX:+UseSerialGC}

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v bc >/dev/null 2>&1 || need+=(bc)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -f target/foobar.jar ] || mvn -B -q package -DskipTests

work=$(mktemp -d /tmp/foobar-bench.XXXXXX)
chmod 755 "$work"   # nginx workers run as www-data
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/site" "$work/nginx/logs"
head -c 1024 /dev/urandom > "$work/site/1k.bin"
head -c 102400 /dev/urandom > "$work/site/100k.bin"

NGINX_PORT=18080; FOOBAR_PORT=18081; FOOBAR_ADMIN=18082
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $work/site;
  }
}
CONF
cat > "$work/foobar.yml" <<CONF
backend:
  listen: 127.0.0.1:$FOOBAR_PORT
  admin: 127.0.0.1:$FOOBAR_ADMIN
  static: {root: $work/site}
  access-log: {enabled: false, format: json}
CONF

taskset -c 1 "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)

start_ns=$(date +%s%N)
# shellcheck disable=SC2086
taskset -c 1 java $JVM_OPTS -jar target/foobar.jar --role=backend --config="$work/foobar.yml" \
  > "$work/foobar.out" 2> "$work/foobar.err" &
fpid=$!
pids+=($fpid)
until taskset -c 0 curl -fs -o /dev/null "http://127.0.0.1:$FOOBAR_ADMIN/ready"; do
  if ! kill -0 $fpid 2>/dev/null; then cat "$work/foobar.err"; exit 1; fi
  sleep 0.01
done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$NGINX_PORT/1k.bin" && break; sleep 0.05; done
curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/1k.bin"

nginx_worker=$(pgrep -P "${pids[0]}" | head -1)
# CPU ticks (utime+stime) a process has used
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wrk prints "Requests/sec: N" and, with --latency, "99% X(us|ms|s)"
run_wrk() { taskset -c 0 wrk -t1 -c64 -d"$1"s --latency "$2" 2>&1; }
rps() { awk '/Requests\/sec/ {print $2}'; }
p99_ms() {
  awk '$1=="99%" { v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+$/,"",v);
    if (u=="us") v=v/1000; else if (u=="s") v=v*1000; printf "%.2f\n", v }'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# warm-up: the JVM compiles its hot paths on the one core it shares with them, so both sizes are
# served twice before anything is measured
for _ in 1 2; do
  for f in 1k.bin 100k.bin; do
    run_wrk "$WARMUP" "http://127.0.0.1:$FOOBAR_PORT/$f" > /dev/null
    run_wrk 3 "http://127.0.0.1:$NGINX_PORT/$f" > /dev/null
  done
done

declare -A R
for f in 1k.bin 100k.bin; do
  for i in $(seq "$ROUNDS"); do
    for s in nginx foobar; do
      port=$NGINX_PORT; spid=$nginx_worker
      [ "$s" = foobar ] && { port=$FOOBAR_PORT; spid=$fpid; }
      t0=$(ticks "$spid")
      out=$(run_wrk "$DURATION" "http://127.0.0.1:$port/$f")
      R[$s.$f.cpu]+="$(( ($(ticks "$spid") - t0) * 100 / (DURATION * $(getconf CLK_TCK)) )) "
      if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "$out" >&2; fi
      R[$s.$f.rps]+="$(echo "$out" | rps) "
      R[$s.$f.p99]+="$(echo "$out" | p99_ms) "
    done
  done
done

rss_kib=$(ps -o rss= -p $fpid | tr -d ' ')
jar_bytes=$(stat -c %s target/foobar.jar)

echo
echo "| file | nginx req/s | foobar req/s | foobar/nginx | per-round foobar/nginx (median) | nginx p99 ms | foobar p99 ms | p99 ratio | nginx CPU | foobar CPU |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for f in 1k.bin 100k.bin; do
  n=$(echo ${R[nginx.$f.rps]} | tr ' ' '\n' | median); b=$(echo ${R[foobar.$f.rps]} | tr ' ' '\n' | median)
  np=$(echo ${R[nginx.$f.p99]} | tr ' ' '\n' | median); bp=$(echo ${R[foobar.$f.p99]} | tr ' ' '\n' | median)
  nc=$(echo ${R[nginx.$f.cpu]} | tr ' ' '\n' | median); bc_=$(echo ${R[foobar.$f.cpu]} | tr ' ' '\n' | median)
  # each round's two runs are adjacent in time, so their ratio is the least exposed to the
  # machine's drifting speed
  pr=$(paste -d' ' <(echo ${R[nginx.$f.rps]} | tr ' ' '\n') <(echo ${R[foobar.$f.rps]} | tr ' ' '\n') \
    | awk '{printf "%.3f\n", $2 / $1}' | median)
  printf "| %s | %.0f | %.0f | %.3f | %s | %s | %s | %.2f | %s%% | %s%% |\n" "${f%.bin}" "$n" "$b" \
    "$(echo "$b / $n" | bc -l)" "$pr" "$np" "$bp" "$(echo "$bp / $np" | bc -l)" "$nc" "$bc_"
done
echo
echo "server CPU: share of its core used during the measured runs (median); wrk runs alone on core 0"
echo "rounds: $ROUNDS x ${DURATION}s per server and file (median shown); all rps: nginx 1k [${R[nginx.1k.bin.rps]}] foobar 1k [${R[foobar.1k.bin.rps]}] nginx 100k [${R[nginx.100k.bin.rps]}] foobar 100k [${R[foobar.100k.bin.rps]}]"
echo "foobar launch to /ready = 200: ${ready_ms} ms (banner: $(grep -o 'ready in .*' "$work/foobar.err" | tr -s ' '))"
echo "foobar RSS after the runs: $((rss_kib / 1024)) MiB (JVM: $JVM_OPTS)"
echo "jar size: $((jar_bytes / 1024 / 1024)) MiB ($jar_bytes bytes)"
