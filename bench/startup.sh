#!/usr/bin/env bash
# Launch to /ready = 200 for --role=backend (the bundled site), RUNS times each: unpinned (both
# cores) and pinned to core 1 as in bench/static.sh, without and with the AppCDS archive that
# scripts/cds.sh builds. Prints every run and the median in ms.
# Usage: bash bench/startup.sh            (env: RUNS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
JVM_OPTS=${JVM_OPTS:--Xms160m -Xmx256m -Xmn96m -XX:+UseSerialGC}
[ -f target/foobar.jar ] || mvn -B -q package -DskipTests
work=$(mktemp -d /tmp/foobar-startup.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/foobar.yml" <<CONF
backend: {listen: 127.0.0.1:18181, admin: 127.0.0.1:18182, access-log: {enabled: false, format: json}}
CONF

jar="$PWD/target/foobar.jar"   # absolute: the CDS archive records the path it was built with
cds=""
once() { # $1: command prefix ("" or "taskset -c 1")
  local start pid ms
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  $1 java $cds $JVM_OPTS -jar "$jar" --role=backend --config="$work/foobar.yml" >/dev/null 2>&1 &
  pid=$!
  # the poller stays on core 0, away from a server pinned to core 1
  until taskset -c 0 curl -fs -o /dev/null http://127.0.0.1:18182/ready; do sleep 0.01; done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  kill "$pid"; wait "$pid" || true
  echo "$ms"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {
  for mode in unpinned pinned; do
    prefix=""; [ "$mode" = pinned ] && prefix="taskset -c 1"
    runs=(); for _ in $(seq "$RUNS"); do runs+=("$(once "$prefix")"); done
    echo "$1, $mode: median $(printf '%s\n' "${runs[@]}" | median) ms (runs: ${runs[*]})"
  done
}
measure "no CDS"
bash scripts/cds.sh > /dev/null
cds="-XX:SharedArchiveFile=target/foobar.jsa -Xshare:on"
measure "CDS"
