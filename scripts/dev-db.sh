#!/usr/bin/env bash
# A MariaDB primary and a GTID replica for local development, on free ports in their own data
# directories (the system MariaDB, if any, is left alone).
#   bash scripts/dev-db.sh start [DIR]   # default DIR: ./data/dev-db; prints ports and JDBC URLs
#   bash scripts/dev-db.sh stop  [DIR]
#   bash scripts/dev-db.sh stop-node  DIR primary|replica  # graceful shutdown of one server
#   bash scripts/dev-db.sh start-node DIR primary|replica  # restarts it on the same port and data
# A restarted replica resumes replication where it stopped; after a primary restart the replica
# reconnects within a second (MASTER_CONNECT_RETRY=1).
# The replica is read_only; the app user `foobar` (password from FOOBAR_DB_PASSWORD, default
# `foobar-dev`) gets only the privileges the application needs, so its writes can never pass
# read_only on the replica and break replication (root's would).
set -euo pipefail
cmd=${1:-start}
dir=$(realpath -m "${2:-data/dev-db}")
password=${FOOBAR_DB_PASSWORD:-foobar-dev}

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends mariadb-server
fi
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

sql() { # $1 node, rest: mariadb client args
  local node=$1; shift
  mariadb --no-defaults --protocol=socket --socket="$dir/$node/mysqld.sock" -uroot "$@"
}

stop_node() { # $1 name; waits until the server has shut down
  local pidfile="$dir/$1/mysqld.pid" pid
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "dev-db: $1 (pid $pid) did not stop within 30s" >&2
    return 1
  fi
}

node_options() { # $1 name: the server id and extra options of that node
  case "$1" in
    primary) echo "1 " ;;
    replica) echo "2 --read-only=1" ;;
    *) echo "dev-db: unknown node '$1' (primary|replica)" >&2; return 2 ;;
  esac
}

start_node() { # $1 name, $2 server id, $3 port, $4 extra options
  local node=$1 id=$2 port=$3
  mkdir -p "$dir/$node"
  if [ ! -d "$dir/$node/data/mysql" ]; then
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$dir/$node/data" \
      --auth-root-authentication-method=normal > "$dir/$node/install.log" 2>&1
  fi
  # shellcheck disable=SC2086
  "$MARIADBD" --no-defaults --user="$(id -un)" --datadir="$dir/$node/data" \
    --port="$port" --bind-address=127.0.0.1 --socket="$dir/$node/mysqld.sock" \
    --pid-file="$dir/$node/mysqld.pid" --log-error="$dir/$node/error.log" \
    --server-id="$id" --log-bin="$dir/$node/binlog" --binlog-format=ROW \
    --gtid-strict-mode=1 --log-slave-updates=1 --skip-name-resolve $4 &
  echo "$port" > "$dir/$node/port"
  for _ in $(seq 300); do
    sql "$node" -e 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "dev-db: $node did not start; see $dir/$node/error.log" >&2
  return 1
}

case "$cmd" in
  start)
    if [ -f "$dir/primary/mysqld.pid" ] && kill -0 "$(cat "$dir/primary/mysqld.pid")" 2>/dev/null; then
      echo "dev-db: already running in $dir" >&2
    else
      start_node primary 1 "$(free_port)" ""
      start_node replica 2 "$(free_port)" "--read-only=1"
      sql primary <<SQL
CREATE DATABASE IF NOT EXISTS foobar;
CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'foobar'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES
  ON foobar.* TO 'foobar'@'127.0.0.1';
SQL
      sql replica <<SQL
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$(cat "$dir/primary/port"),
  MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos,
  MASTER_CONNECT_RETRY=1;
START SLAVE;
SQL
      for _ in $(seq 100); do
        sql replica -e "SHOW DATABASES LIKE 'foobar'" | grep -q foobar && break
        sleep 0.1
      done
    fi
    p=$(cat "$dir/primary/port"); r=$(cat "$dir/replica/port")
    echo "primary: 127.0.0.1:$p  jdbc:mysql://127.0.0.1:$p/foobar"
    echo "replica: 127.0.0.1:$r  jdbc:mysql://127.0.0.1:$r/foobar (read_only, GTID replica)"
    echo "user:    foobar / \$FOOBAR_DB_PASSWORD (default foobar-dev)"
    ;;
  stop)
    for node in replica primary; do
      stop_node "$node"
    done
    echo "dev-db: stopped ($dir kept; delete it for a fresh start)"
    ;;
  stop-node)
    node=${3:?usage: $0 stop-node DIR primary|replica}
    node_options "$node" >/dev/null
    stop_node "$node"
    echo "dev-db: $node stopped"
    ;;
  start-node)
    node=${3:?usage: $0 start-node DIR primary|replica}
    read -r id extra <<<"$(node_options "$node")"
    if [ ! -f "$dir/$node/port" ]; then
      echo "dev-db: no $node in $dir; run '$0 start $dir' first" >&2
      exit 1
    fi
    if [ -f "$dir/$node/mysqld.pid" ] && kill -0 "$(cat "$dir/$node/mysqld.pid")" 2>/dev/null; then
      echo "dev-db: $node already running" >&2
    else
      start_node "$node" "$id" "$(cat "$dir/$node/port")" "$extra"
    fi
    echo "dev-db: $node started on 127.0.0.1:$(cat "$dir/$node/port")"
    ;;
  *)
    echo "usage: $0 start|stop [DIR] | stop-node|start-node DIR primary|replica" >&2
    exit 2
    ;;
esac
