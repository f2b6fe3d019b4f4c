#!/usr/bin/env bash
# Load balancer: foobar lb vs HAProxy 2.6 (1 thread), same origin, same machine, same run.
# The origin (nginx, 1 worker, a 1 KiB file) and the load generator share core 0; the proxy under
# test is pinned alone to core 1. Each case: warm-up, then ROUNDS alternating runs of DURATION s.
# Cases: HTTP/1.1 keep-alive; HTTPS keep-alive; HTTPS with a new TLS connection per request
# (handshakes/s); HTTP/2 over TLS with h2load. Reports req/s, p99 and the foobar/HAProxy ratio,
# and per run the proxy's CPU time per request and how busy each core was (a core-0 share near 1
# means the origin and the load generator, not the proxy, set the pace).
# TLS_ENGINE (default openssl) is foobar's lb.tls-engine: openssl (the system's libssl, as HAProxy
# uses) or jdk (JSSE).
# Usage: bash bench/lb.sh   (env: ROUNDS=3 DURATION=10 WARMUP=60 CONNECTIONS=64 CASES="http https tls h2"
#        TLS_ENGINE=openssl HAPROXY_HEADERS=0 ACCESS_LOG=0)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
# Seconds of warm-up per case and proxy, run as runs of DURATION s. The JVM compiles its hot paths
# in the first tens of seconds; and the end of a run, when the load generator drops its open
# connections mid-request, takes paths the steady state never took, which throws compiled code
# away: measured, the first run after such an end was up to 30 % slower than the next (JFR:
# jdk.Deoptimization "unstable_if" in the connection-close paths). Several short warm-up runs let
# the JIT see both before the rounds count.
WARMUP=${WARMUP:-60}
CONNECTIONS=${CONNECTIONS:-64}
CASES=${CASES:-"http https tls h2"}   # a subset runs only those cases
# HAPROXY_HEADERS=1 makes HAProxy do the per-request work the issue asks of the lb: X-Forwarded-For,
# -Proto and -Host to the origin, an X-Request-Id both ways (default 0: HAProxy bare, as before)
HAPROXY_HEADERS=${HAPROXY_HEADERS:-0}
# ACCESS_LOG=1 gives both proxies a line per request in a file: HAProxy's httplog to its stdout
# (a file), foobar's lb.access-log (JSON) to a file (default 0: neither logs, as before)
ACCESS_LOG=${ACCESS_LOG:-0}
TLS_ENGINE=${TLS_ENGINE:-openssl}     # foobar's lb.tls-engine: openssl or jdk
JVM_OPTS=${JVM_OPTS:--Xms160m -Xmx256m -Xmn96m -XX:+UseSerialGC}

need=()
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -f target/foobar.jar ] || mvn -B -q -ntp package -DskipTests

work=$(mktemp -d /tmp/foobar-bench-lb.XXXXXX)
chmod 755 "$work"
pids=()
# waits for the proxies to exit (the lb drains first), so that a run started right after binds
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ORIGIN=18180; HA_HTTP=18181; HA_HTTPS=18182; FB_HTTP=18183; FB_HTTPS=18184; FB_ADMIN=18185
mkdir -p "$work/site" "$work/nginx/logs"
head -c 1024 /dev/urandom > "$work/site/1k.bin"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$ORIGIN; root $work/site; }
}
CONF
taskset -c 0 "$NGINX" -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=($!)

# one ECDSA P-256 certificate for both proxies
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" > "$work/haproxy.pem"

ha_headers() { # $1 the frontend's scheme
  [ "$HAPROXY_HEADERS" = 1 ] || return 0
  printf '  %s\n' "option forwardfor" "http-request set-header X-Forwarded-Proto $1" \
    "http-request set-header X-Forwarded-Host %[req.hdr(host)]" \
    "unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid" "unique-id-header X-Request-Id" \
    "http-response set-header X-Request-Id %[unique-id]"
}
cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 8000
  tune.ssl.default-dh-param 2048
  ssl-default-bind-options ssl-min-ver TLSv1.2
$([ "$ACCESS_LOG" = 1 ] && echo "  log stdout format raw local0")
defaults
  mode http
$([ "$ACCESS_LOG" = 1 ] && printf '  %s\n' "log global" "option httplog")
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend plain
  bind 127.0.0.1:$HA_HTTP
  default_backend origin
$(ha_headers http)
frontend tls
  bind 127.0.0.1:$HA_HTTPS ssl crt $work/haproxy.pem alpn h2,http/1.1
  default_backend origin
$(ha_headers https)
backend origin
  http-reuse always
  server o1 127.0.0.1:$ORIGIN
CONF
taskset -c 1 "$HAPROXY" -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & HA_PID=$!; pids+=($HA_PID)

cat > "$work/foobar.yml" <<CONF
lb:
  http: 127.0.0.1:$FB_HTTP
  redirect-http: false
  https: 127.0.0.1:$FB_HTTPS
  admin: 127.0.0.1:$FB_ADMIN
  tls: {cert: $work/cert.pem, key: $work/key.pem}
  tls-engine: $TLS_ENGINE
  hsts: "off"
  rate-limit: {enabled: false, rate: 1, burst: 1}
  backends: [http://127.0.0.1:$ORIGIN]
  health: {path: /1k.bin, interval: 2s, timeout: 1s, rise: 1, fall: 3}
  access-log: {enabled: $([ "$ACCESS_LOG" = 1 ] && echo true || echo false), file: $work/foobar-access.log}
CONF
# shellcheck disable=SC2086
taskset -c 1 java $JVM_OPTS -jar target/foobar.jar --role=lb --config="$work/foobar.yml" \
  > "$work/foobar.log" 2>&1 & FB_PID=$!; pids+=($FB_PID)
for _ in $(seq 300); do
  curl -fs "http://127.0.0.1:$FB_ADMIN/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$FB_ADMIN/ready" >/dev/null || { tail -20 "$work/foobar.log"; exit 1; }
curl -fs -o /dev/null "http://127.0.0.1:$HA_HTTP/1k.bin" || { cat "$work/haproxy.log"; exit 1; }
curl -fs -o /dev/null "http://127.0.0.1:$FB_HTTP/1k.bin" || { tail -20 "$work/foobar.log"; exit 1; }

# prints "req/s p99_ms"
wrk_run() { # $1 url, $2 seconds, rest: extra wrk args
  local out
  out=$(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"$2"s --latency "${@:3}" "$1")
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
print(f"{rps:.0f} p99={p99:.2f}ms" + (f" non2xx={errors.group(1)}" if errors else ""))
PY
}
h2_run() { # $1 url, $2 seconds
  local out
  # h2load 1.52 can outlive -D: clients still connecting when the duration ends are never stopped
  # (seen against a just-started lb, whose first TLS handshakes are slow); the timeout ends such a
  # run, which then has no result (a warm-up run shrugs that off, a measured round stops the script)
  out=$(timeout $(($2 + 30)) taskset -c 0 h2load -c"$CONNECTIONS" -m10 -D"$2" "$1" 2>&1) || true
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
done = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
if not done:
    sys.exit("h2load gave no result (still running 30 s after its duration)")
rps = float(done.group(1))
# h2load prints request latency as: time for request: min max mean sd +/- sd (no p99)
m = re.search(r"time for request:\s+\S+\s+(\S+)\s+(\S+)", out)
def ms(v):
    n = float(re.match(r"[\d.]+", v).group(0)); u = v[len(re.match(r"[\d.]+", v).group(0)):]
    return n * {"us": 0.001, "ms": 1, "s": 1000}[u]
failed = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", out)
print(f"{rps:.0f} mean={ms(m.group(2)):.2f}ms,max={ms(m.group(1)):.2f}ms" + (f" failed={failed.group(2)}" if failed and failed.group(2) != '0' else ""))
PY
}

# "ticks-of-pid core0-busy core0-all core1-busy core1-all" (USER_HZ ticks)
snap() {
  local t; t=$(awk '{print $14+$15}' "/proc/$1/stat")
  echo "$t $(awk '/^cpu[01] /{b=$2+$3+$4+$7+$8; printf "%d %d ", b, b+$5+$6}' /proc/stat)"
}
# "cpu=<proxy CPU µs per request> core0=<busy share> core1=<busy share>" between two snaps
usage() { # $1 before, $2 after, $3 req/s, $4 seconds
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import os, sys
a = [int(x) for x in sys.argv[1].split()]; b = [int(x) for x in sys.argv[2].split()]
hz = os.sysconf("SC_CLK_TCK"); n = float(sys.argv[3]) * float(sys.argv[4])
share = lambda i: (b[i] - a[i]) / max(1, b[i + 1] - a[i + 1])
print(f"cpu={(b[0] - a[0]) / hz * 1e6 / max(n, 1):.0f}us/req core0={share(1):.2f} core1={share(3):.2f}")
PY
}

load() { # $1 kind (wrk|h2), $2 url, rest: extra wrk args; one run of DURATION s, prints its result
  if [ "$1" = wrk ]; then wrk_run "$2" "$DURATION" "${@:3}"; else h2_run "$2" "$DURATION"; fi
}

# "req/s latency [rest] cpu=… core0=… core1=…": one run by load() against the proxy of pid $1
measure() { # $1 pid, rest: load's arguments
  local s0 s1 rps lat rest
  s0=$(snap "$1")
  read -r rps lat rest <<<"$(load "${@:2}")"
  s1=$(snap "$1")
  echo "$rps $lat ${rest:-} $(usage "$s0" "$s1" "$rps" "$DURATION")"
}

run_case() { # $1 name, $2 kind (wrk|h2), $3 haproxy url, $4 foobar url, rest: extra wrk args
  local name=$1 kind=$2 ha=$3 fb=$4; shift 4
  local ratios=()
  for _ in $(seq $(((WARMUP + DURATION - 1) / DURATION))); do
    # a warm-up run of h2load that timed out is shrugged off (see h2_run); wrk's may not fail
    load "$kind" "$ha" "$@" >/dev/null || [ "$kind" = h2 ]
    load "$kind" "$fb" "$@" >/dev/null || [ "$kind" = h2 ]
  done
  for r in $(seq "$ROUNDS"); do
    read -r ha_rps ha_p99 ha_rest <<<"$(measure "$HA_PID" "$kind" "$ha" "$@")"
    read -r fb_rps fb_p99 fb_rest <<<"$(measure "$FB_PID" "$kind" "$fb" "$@")"
    ratio=$(python3 -c "print(f'{$fb_rps/$ha_rps:.3f}')")
    ratios+=("$ratio")
    printf '%-26s round %d  haproxy %6s req/s %-22s foobar %6s req/s %-22s ratio %s\n    haproxy: %s\n    foobar:  %s\n' \
      "$name" "$r" "$ha_rps" "$ha_p99" "$fb_rps" "$fb_p99" "$ratio" "$ha_rest" "$fb_rest"
  done
  printf '%-30s median foobar/haproxy: %s\n' "$name" \
    "$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
}

echo "origin nginx :$ORIGIN on core 0 with the load generator; the proxy under test alone on core 1"
want() { [[ " $CASES " == *" $1 "* ]]; }
want http && run_case "HTTP/1.1 keep-alive" wrk "http://127.0.0.1:$HA_HTTP/1k.bin" "http://127.0.0.1:$FB_HTTP/1k.bin"
want https && run_case "HTTPS keep-alive" wrk "https://127.0.0.1:$HA_HTTPS/1k.bin" "https://127.0.0.1:$FB_HTTPS/1k.bin"
want tls && run_case "HTTPS new TLS per request" wrk "https://127.0.0.1:$HA_HTTPS/1k.bin" "https://127.0.0.1:$FB_HTTPS/1k.bin" -H "Connection: close"
want h2 && run_case "HTTP/2 (h2load -m10)" h2 "https://127.0.0.1:$HA_HTTPS/1k.bin" "https://127.0.0.1:$FB_HTTPS/1k.bin"
# the last case test is false when that case is not in CASES: the run still succeeded
exit 0
