#!/usr/bin/env bash
# A real single-node Elasticsearch on 127.0.0.1 for tests and development, without Docker.
#
#   scripts/elasticsearch.sh start|stop|status|restart
#
# Uses the server-only distribution published on Maven Central (integ-test-zip), run with the
# machine's Temurin 25 JDK as an unprivileged user. See docs/elasticsearch.md for what that
# build lacks and why the index mapping does not need it.
#
# Environment:
#   REVIEWLENS_ES_PORT      HTTP port (default 9200; transport uses port + 100)
#   REVIEWLENS_ES_VERSION   distribution version (default 8.19.21, the newest integ-test-zip on
#                           Maven Central; keep the Python client on the same major, minor <= it)
#   REVIEWLENS_CACHE        download cache (default $HOME/.cache/reviewlens)
#   REVIEWLENS_ES_ROOT      install, data and log folders (default /opt/reviewlens-es as root)
#   REVIEWLENS_ES_HEAP      heap size (default 512m)
#   REVIEWLENS_ES_START_TIMEOUT  seconds to wait for a healthy node (default 180)
#   ES_JAVA_HOME            JDK to run with (default /usr/lib/jvm/temurin-25-jdk-amd64)
set -euo pipefail

ES_VERSION="${REVIEWLENS_ES_VERSION:-8.19.21}"
PORT="${REVIEWLENS_ES_PORT:-9200}"
TRANSPORT_PORT=$((PORT + 100))
HEAP="${REVIEWLENS_ES_HEAP:-512m}"
START_TIMEOUT="${REVIEWLENS_ES_START_TIMEOUT:-180}"
JDK="${ES_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
CACHE="${REVIEWLENS_CACHE:-$HOME/.cache/reviewlens}/elasticsearch"
ES_USER=reviewlens-es

if [ "$(id -u)" = 0 ]; then
  # Elasticsearch refuses to run as root, and /root is not traversable by other users
  ES_ROOT="${REVIEWLENS_ES_ROOT:-/opt/reviewlens-es}"
else
  ES_ROOT="${REVIEWLENS_ES_ROOT:-$HOME/.cache/reviewlens/es-run}"
fi
ES_HOME="$ES_ROOT/elasticsearch-$ES_VERSION"
NODE_DIR="$ES_ROOT/node-$PORT"
PID_FILE="$NODE_DIR/es.pid"
URL="http://127.0.0.1:$PORT"
ZIP="$CACHE/elasticsearch-$ES_VERSION.zip"

log() { echo "elasticsearch.sh: $*" >&2; }

as_es_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$ES_USER" -- "$@"
  else
    "$@"
  fi
}

health() {
  curl -fsS --max-time 5 "$URL/_cluster/health${1:-}" 2>/dev/null
}

running_pid() {
  # the pid from the pid file, if that process is alive
  [ -s "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

fetch() {
  if [ -s "$ZIP" ]; then
    return
  fi
  mkdir -p "$CACHE"
  log "downloading Elasticsearch $ES_VERSION (integ-test-zip) from Maven Central"
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
    -DoutputDirectory="$CACHE" -Dmdep.overWriteReleases=true
  [ -s "$ZIP" ] || { log "download did not produce $ZIP"; exit 1; }
}

install() {
  if [ ! -x "$ES_HOME/bin/elasticsearch" ]; then
    mkdir -p "$ES_ROOT"
    # unzip keeps the executable bits that the launch scripts need
    unzip -q -o "$ZIP" -d "$ES_ROOT"
    chmod +x "$ES_HOME"/bin/*
  fi
  if [ "$(id -u)" = 0 ] && ! id -u "$ES_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir "$ES_ROOT" --shell /usr/sbin/nologin "$ES_USER"
  fi
}

configure() {
  mkdir -p "$NODE_DIR/data" "$NODE_DIR/logs" "$NODE_DIR/tmp"
  rm -rf "$NODE_DIR/config"
  cp -r "$ES_HOME/config" "$NODE_DIR/config"
  cat > "$NODE_DIR/config/elasticsearch.yml" <<YML
cluster.name: reviewlens-dev-$PORT
node.name: reviewlens-node-$PORT
discovery.type: single-node
network.host: 127.0.0.1
http.port: $PORT
transport.port: $TRANSPORT_PORT
path.data: $NODE_DIR/data
path.logs: $NODE_DIR/logs
xpack.security.enabled: false
action.destructive_requires_name: false
cluster.routing.allocation.disk.threshold_enabled: false
indices.breaker.total.use_real_memory: false
YML
  if [ "${ES_VERSION%%.*}" -ge 9 ]; then
    # 9.x also pauses merges on a full disk; older servers reject the setting as unknown
    echo "indices.merge.disk.watermark.high: 1b" >>"$NODE_DIR/config/elasticsearch.yml"
  fi
  # gc logs and heap dumps go to the node folder, not into the shared install
  sed -i "s#logs/gc.log#$NODE_DIR/logs/gc.log#; s#-XX:HeapDumpPath=data#-XX:HeapDumpPath=$NODE_DIR/data#" \
    "$NODE_DIR/config/jvm.options"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$ES_USER:$ES_USER" "$ES_HOME" "$NODE_DIR"
  fi
}

start() {
  if running_pid >/dev/null && health >/dev/null; then
    log "already running at $URL"
    health; echo
    return
  fi
  if health >/dev/null; then
    log "something else already answers at $URL; not starting a second node"
    exit 1
  fi
  [ -x "$JDK/bin/java" ] || { log "no JDK at $JDK (set ES_JAVA_HOME)"; exit 1; }
  fetch
  install
  configure
  rm -f "$PID_FILE"
  log "starting on $URL (heap $HEAP)"
  if ! as_es_user env ES_JAVA_HOME="$JDK" ES_PATH_CONF="$NODE_DIR/config" \
      ES_TMPDIR="$NODE_DIR/tmp" ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
      "$ES_HOME/bin/elasticsearch" -d -p "$PID_FILE" >"$NODE_DIR/logs/console.log" 2>&1; then
    log "Elasticsearch failed to start; last log lines:"
    tail -n 30 "$NODE_DIR/logs/console.log" >&2 || true
    exit 1
  fi
  for _ in $(seq 1 "$START_TIMEOUT"); do
    if health "?wait_for_status=yellow&timeout=1s" >/dev/null; then
      health; echo
      return
    fi
    sleep 1
  done
  log "no healthy answer from $URL after $START_TIMEOUT s; last log lines:"
  tail -n 30 "$NODE_DIR/logs/console.log" >&2 || true
  exit 1
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running (no live pid in $PID_FILE)"
    rm -f "$PID_FILE"
    return
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log "stopped"
      return
    fi
    sleep 0.5
  done
  log "did not stop within 30 s; killing"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

status() {
  if out="$(health)"; then
    echo "$out"
    return 0
  fi
  if running_pid >/dev/null; then
    echo "process running but $URL does not answer yet"
  else
    echo "not running at $URL"
  fi
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
