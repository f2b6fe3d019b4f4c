#!/usr/bin/env bash
# Builds target/foobar.jsa, an AppCDS archive of the classes a backend loads (start-up, serving,
# a scrape, a drain): with it, the JVM maps those classes ready-parsed and verified instead of
# loading them from the jar. The archive records the jar's absolute path; use it with exactly that
# path (JVM warnings go to stderr so that stdout stays JSON):
#   java -XX:SharedArchiveFile=target/foobar.jsa -Xlog:all=warning:stderr \
#        -Xms160m -Xmx256m -Xmn96m -XX:+UseSerialGC -jar "$PWD/target/foobar.jar" --role=backend
# Rebuild it after every build of the jar: the JVM ignores a stale archive (with a warning).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f target/foobar.jar ] || mvn -B -q package -DskipTests
work=$(mktemp -d /tmp/foobar-cds.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/foobar.yml" <<CONF
backend: {listen: 127.0.0.1:18281, admin: 127.0.0.1:18282}
CONF
rm -f target/foobar.jsa
java -XX:ArchiveClassesAtExit=target/foobar.jsa -Xms160m -Xmx256m -Xmn96m -XX:+UseSerialGC \
  -jar "$PWD/target/foobar.jar" --role=backend --config="$work/foobar.yml" > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -fs -o /dev/null http://127.0.0.1:18282/ready && break; sleep 0.05; done
for path in / /index.html /assets/site.css /missing; do
  curl -fs -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:18281$path" || true
done
curl -fs -o /dev/null http://127.0.0.1:18282/metrics
kill "$pid"
wait "$pid"
ls -l target/foobar.jsa
