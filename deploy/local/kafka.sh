#!/usr/bin/env bash
# Local Apache Kafka broker for Schakel development and tests, without Docker.
#
# The broker and its command-line tools are plain jars from Maven Central
# (see pom.xml next to this script). They are downloaded once into a cache
# directory and run with `java -cp '<libs>/*' <main class>`, exactly like the
# shell wrappers of the Kafka distribution do.
#
# Usage: deploy/local/kafka.sh <command> [args]
#   fetch               download the jars into the cache (no-op when complete)
#   up                  fetch, format storage if new, start the broker, wait
#   wait [timeout_s]    wait until the broker answers (default 60 s)
#   down                stop the broker (SIGTERM, SIGKILL after 30 s)
#   status              print whether the broker runs (exit 0 yes, 3 no)
#   reset               down, then delete the data directory
#   tool <Main> [args]  run any main class from the jars with the classpath
#
# Environment:
#   SCHAKEL_KAFKA_PORT             client (PLAINTEXT) port, default 9092
#   SCHAKEL_KAFKA_CONTROLLER_PORT  KRaft controller port, default PORT + 1
#   SCHAKEL_KAFKA_DATA             data dir, default <repo>/.kafka-data
#   SCHAKEL_KAFKA_CACHE            jar cache, default
#                                  ${XDG_CACHE_HOME:-~/.cache}/schakel/kafka-<version>
#   SCHAKEL_KAFKA_SECURE           1: secure mode (below); default 0, a PLAINTEXT
#                                  broker without authentication (dev and tests)
# Secure mode (SCHAKEL_KAFKA_SECURE=1): the client listener is SASL_PLAINTEXT with
# SCRAM-SHA-512 only, the KRaft StandardAuthorizer decides every request, nothing
# is allowed without an ACL, and the super users are 'admin' and the node itself.
# The controller listener (loopback, internal) authenticates the node with
# SASL/PLAIN and a random password kept in the data dir (SCRAM cannot run between
# controllers). SCRAM users are created when the storage is formatted (a new data
# dir), so they exist before the first start:
#   SCHAKEL_KAFKA_ADMIN_PASSWORD   password of the super user 'admin' (required)
#   SCHAKEL_KAFKA_USERS_FILE       more SCRAM users, one 'name password' a line
#                                  ('#' comments); the names Schakel's ACLs use
#                                  are printed by 'schakel acl users'
# The generated server.properties holds passwords: it is readable by its owner only.
# Each (data dir, port, controller port) triple is an independent broker, so
# tests can run their own next to the developer's one.
#
# Main classes of the tools in Kafka 4.2 (jar kafka-tools unless noted):
#   console producer   org.apache.kafka.tools.ConsoleProducer
#   console consumer   org.apache.kafka.tools.consumer.ConsoleConsumer
#   topics             org.apache.kafka.tools.TopicCommand
#   consumer groups    org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
#   api versions       org.apache.kafka.tools.BrokerApiVersionsCommand
#   producer perf      org.apache.kafka.tools.ProducerPerformance
#   storage format     kafka.tools.StorageTool            (jar kafka_2.13)
#   broker             kafka.Kafka <server.properties>    (jar kafka_2.13)
# Example:
#   deploy/local/kafka.sh tool org.apache.kafka.tools.TopicCommand \
#       --bootstrap-server 127.0.0.1:9092 --create --topic demo
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
POM=$HERE/pom.xml

# The Kafka version is defined once, in pom.xml.
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")
[[ -n $KAFKA_VERSION ]] || { echo "schakel: no <kafka.version> in $POM" >&2; exit 1; }

HOST=127.0.0.1
SECURE=${SCHAKEL_KAFKA_SECURE:-0}
[[ $SECURE == 0 || $SECURE == 1 ]] || { echo "schakel: SCHAKEL_KAFKA_SECURE must be 0 or 1" >&2; exit 64; }
PORT=${SCHAKEL_KAFKA_PORT:-9092}
CONTROLLER_PORT=${SCHAKEL_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
CACHE=${SCHAKEL_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/schakel/kafka-$KAFKA_VERSION}
LIBS=$CACHE/libs
DATA=${SCHAKEL_KAFKA_DATA:-$REPO/.kafka-data}
[[ $DATA == /* ]] || DATA=$PWD/$DATA   # the broker config needs absolute paths

CONFIG=$DATA/server.properties
PID_FILE=$DATA/kafka.pid
LOG_FILE=$DATA/kafka.log      # broker log (log4j2, see log4j2.properties)
OUT_FILE=$DATA/kafka.out      # JVM stdout/stderr (normally empty)
LOG_DIR=$DATA/logs            # Kafka's log.dirs (topic data + KRaft metadata)

BROKER_JAVA_OPTS=(
  -Xmx1G -Xms512m
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$HERE/log4j2.properties"
  "-Dschakel.kafka.logfile=$LOG_FILE"
)
TOOL_JAVA_OPTS=(
  -Xmx512m
  -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$HERE/tools-log4j2.properties"
)

say() { echo "schakel: $*" >&2; }
die() { say "$*"; exit 1; }

# Milliseconds since the epoch (bash 5 has EPOCHREALTIME; fall back to seconds).
now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t / 1000))
  else
    echo $(($(date +%s) * 1000))
  fi
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# ---------------------------------------------------------------- fetch ----

require_java() {
  command -v java >/dev/null 2>&1 ||
    { echo "schakel: java (17+) not found: apt-get install openjdk-17-jre-headless" >&2; exit 2; }
  # `java -version` prints e.g.: openjdk version "17.0.15" 2025-04-15
  local v
  v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  if [[ -z $v || $v -lt 17 ]]; then
    echo "schakel: java 17+ required (found ${v:-unknown}): apt-get install openjdk-17-jre-headless" >&2
    exit 2
  fi
}

# The marker records the pom it was built from: editing pom.xml refetches.
marker_text() {
  echo "kafka $KAFKA_VERSION pom $(cksum <"$POM" | cut -d' ' -f1,2)"
}

fetch_complete() {
  [[ -d $LIBS && -f $CACHE/.complete && $(cat "$CACHE/.complete") == "$(marker_text)" ]]
}

cmd_fetch() {
  require_java
  fetch_complete && return 0
  command -v mvn >/dev/null 2>&1 ||
    { echo "schakel: mvn (Maven 3.6+) not found: apt-get install maven" >&2; exit 2; }

  mkdir -p "$CACHE"
  # The download runs in a subshell holding a lock on fd 9 (where flock(1)
  # exists), so concurrent first runs (e.g. parallel test sessions) download
  # once; the lock is released when the subshell ends and is never inherited
  # by the broker.
  (
    if command -v flock >/dev/null 2>&1; then
      flock 9
      fetch_complete && exit 0
    fi
    say "downloading Kafka $KAFKA_VERSION jars into $LIBS (first run only)"
    tmp=$CACHE/libs.tmp.$$
    mvn_log=$CACHE/mvn.log
    rm -rf "$tmp"
    # -q keeps Maven silent unless something fails; its output goes to a log
    # that is shown in full on failure.
    if ! mvn -B -q -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
      rm -rf "$tmp"
      sed 's/\x1b\[[0-9;]*m//g' "$mvn_log" >&2   # strip colour codes
      die "maven could not fetch the Kafka jars (log: $mvn_log)"
    fi
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    marker_text >"$CACHE/.complete"
  ) 9>"$CACHE/.lock"
}

# ------------------------------------------------------------ broker pid ----

# Prints the pid of the broker of this data dir if it is alive. The command
# line must mention our server.properties, so a recycled pid is not mistaken
# for the broker.
broker_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  ps -o args= -p "$pid" 2>/dev/null | grep -qF -- "kafka.Kafka $CONFIG" || return 1
  echo "$pid"
}

# ------------------------------------------------------------------- up ----

write_config() {
  local listener=PLAINTEXT
  [[ $SECURE == 1 ]] && listener=SASL_PLAINTEXT
  (
    umask 077   # secure mode writes passwords into this file
    cat >"$CONFIG" <<EOF
# Generated by deploy/local/kafka.sh on every 'up'; edits are overwritten.
# Single combined KRaft node (broker + controller) on localhost.
process.roles=broker,controller
node.id=1
listeners=$listener://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=$listener://$HOST:$PORT
inter.broker.listener.name=$listener
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT

log.dirs=$LOG_DIR
num.partitions=3
# Schakel creates its topics itself.
auto.create.topics.enable=false

# One node: every replication factor and min ISR is 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Consumer groups start without the usual 3 s grace period.
group.initial.rebalance.delay.ms=0
EOF
    if [[ $SECURE == 1 ]]; then
      write_secure_config
    else
      echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT" >>"$CONFIG"
    fi
  )
}

# Secure mode: SCRAM-SHA-512 for clients and between brokers, SASL/PLAIN with one
# static identity (the node) on the controller listener, the StandardAuthorizer.
write_secure_config() {
  local admin_pw=${SCHAKEL_KAFKA_ADMIN_PASSWORD:-}
  [[ -n $admin_pw ]] || die "secure mode needs SCHAKEL_KAFKA_ADMIN_PASSWORD"
  checked_password admin "$admin_pw" >/dev/null
  local node_pw_file=$DATA/node.password
  if [[ ! -s $node_pw_file ]]; then
    od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$node_pw_file"
  fi
  local node_pw
  node_pw=$(cat "$node_pw_file")
  cat >>"$CONFIG" <<EOF

# --- secure mode: every client authenticates, every request is authorised ---
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pw";
# The controller listener: only the node itself, as 'node' (SASL/PLAIN, static).
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="node" password="$node_pw" user_node="$node_pw";

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:node
allow.everyone.if.no.acl.found=false
EOF
}

# Passwords go into JAAS strings and --add-scram lists, which have no escapes:
# quotes, backslashes, commas, brackets, semicolons and blanks are refused.
checked_password() {
  [[ $2 =~ ^[A-Za-z0-9._~+/=@%^*!:-]{8,}$ ]] ||
    die "password of '$1': at least 8 of A-Z a-z 0-9 . _ ~ + / = @ % ^ * ! : -"
  printf '%s' "$2"
}

# The --add-scram arguments of the storage format, NUL-separated (secure mode only).
scram_args() {
  [[ $SECURE == 1 ]] || return 0
  printf '%s\0' --add-scram "SCRAM-SHA-512=[name=admin,password=$SCHAKEL_KAFKA_ADMIN_PASSWORD]"
  local file=${SCHAKEL_KAFKA_USERS_FILE:-} name password rest
  [[ -z $file ]] && return 0
  [[ -r $file ]] || die "SCHAKEL_KAFKA_USERS_FILE '$file' is not readable"
  while read -r name password rest || [[ -n $name ]]; do
    [[ -z $name || $name == \#* ]] && continue
    [[ -n $password && -z $rest ]] || die "$file: expected 'name password' (user '$name')"
    [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "$file: bad user name '$name' (letters, digits, . _ -)"
    checked_password "$name" "$password" >/dev/null
    printf '%s\0' --add-scram "SCRAM-SHA-512=[name=$name,password=$password]"
  done <"$file"
}

# Formats the KRaft storage once; meta.properties marks a formatted dir.
format_storage() {
  [[ -f $LOG_DIR/meta.properties ]] && return 0
  local cluster_id
  cluster_id=$(java "${TOOL_JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)
  say "formatting new KRaft storage in $LOG_DIR (cluster id $cluster_id)"
  local -a scram=()
  local arg
  scram_args >/dev/null   # validates the users file here, where 'die' ends the script
  while IFS= read -r -d '' arg; do scram+=("$arg"); done < <(scram_args)
  java "${TOOL_JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format \
      --cluster-id "$cluster_id" --standalone --config "$CONFIG" "${scram[@]}" \
      >"$DATA/format.log" 2>&1 ||
    { cat "$DATA/format.log" >&2; die "formatting storage failed"; }
}

cmd_up() {
  cmd_fetch
  local pid
  if pid=$(broker_pid); then
    echo "kafka already running on $HOST:$PORT (pid $pid, data $DATA)"
    # It may still be starting (e.g. a concurrent 'up'): then wait for it.
    port_open "$PORT" || wait_ready 60
    return 0
  fi
  # Fail early and clearly if another process holds one of our ports.
  local p
  for p in "$PORT" "$CONTROLLER_PORT"; do
    port_open "$p" && die "port $HOST:$p is already in use (another broker? set SCHAKEL_KAFKA_PORT / SCHAKEL_KAFKA_CONTROLLER_PORT)"
  done

  mkdir -p "$DATA"
  rm -f "$PID_FILE"
  write_config
  format_storage

  say "starting kafka $KAFKA_VERSION on $HOST:$PORT (data $DATA, log $LOG_FILE)"
  local t0
  t0=$(now_ms)
  # nohup + no stdin: the broker outlives this script and the terminal.
  nohup java "${BROKER_JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.Kafka "$CONFIG" \
      >>"$OUT_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  wait_ready 60 "$t0"
}

# ----------------------------------------------------------------- wait ----

# Last lines of the broker's log (and of the JVM output, if any) on failure.
show_log_tail() {
  if [[ -s $LOG_FILE ]]; then
    say "last 20 lines of $LOG_FILE:"
    tail -n 20 "$LOG_FILE" >&2
  fi
  if [[ -s $OUT_FILE ]]; then
    say "last 20 lines of $OUT_FILE:"
    tail -n 20 "$OUT_FILE" >&2
  fi
}

# wait_ready <timeout_s> [start_ms]
# A cheap TCP probe first; once the port accepts connections, one real client
# request (list topics) proves the broker serves metadata. The port can open
# slightly before the broker handles requests, so the request is retried.
wait_ready() {
  local timeout_s=$1 t0=${2:-$(now_ms)}
  [[ $timeout_s =~ ^[0-9]+$ ]] || die "wait: timeout must be whole seconds, got '$timeout_s'"
  local deadline=$((t0 + timeout_s * 1000))
  # Keep each probe short; the loop provides the patience. The file is
  # static, so it lives in the cache (wait must not create the data dir).
  local client_cfg=$CACHE/probe-client.properties
  if [[ ! -f $client_cfg ]]; then
    printf '%s\n' request.timeout.ms=3000 default.api.timeout.ms=5000 >"$client_cfg.$$"
    mv -f "$client_cfg.$$" "$client_cfg"
  fi
  if [[ $SECURE == 1 ]]; then   # the probe logs in as the admin
    [[ -n ${SCHAKEL_KAFKA_ADMIN_PASSWORD:-} ]] || die "secure mode needs SCHAKEL_KAFKA_ADMIN_PASSWORD"
    local secure_cfg=$DATA/probe-client.properties
    (
      umask 077
      cat "$client_cfg" - >"$secure_cfg" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$SCHAKEL_KAFKA_ADMIN_PASSWORD";
EOF
    )
    client_cfg=$secure_cfg
  fi

  while (($(now_ms) < deadline)); do
    # The broker we started died: no point in waiting for the timeout. (Only
    # liveness is checked here: right after the fork the process may not yet
    # have exec'd java, so its command line is not a reliable signal.)
    if [[ -f $PID_FILE ]] && ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      rm -f "$PID_FILE"
      say "kafka exited during startup"
      show_log_tail
      exit 1
    fi
    if port_open "$PORT" &&
       java "${TOOL_JAVA_OPTS[@]}" -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand \
           --bootstrap-server "$HOST:$PORT" --command-config "$client_cfg" --list \
           >/dev/null 2>&1; then
      local ms=$(($(now_ms) - t0))
      echo "kafka ready on $HOST:$PORT ($((ms / 1000)).$(((ms % 1000) / 100))s)"
      return 0
    fi
    sleep 0.2
  done
  say "kafka not ready on $HOST:$PORT after ${timeout_s}s"
  show_log_tail
  exit 1
}

cmd_wait() {
  cmd_fetch
  wait_ready "${1:-60}"
}

# ----------------------------------------------------------------- down ----

cmd_down() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PID_FILE"
    echo "kafka not running (data $DATA)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # A clean shutdown of a single node takes a few seconds.
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "kafka (pid $pid) did not stop within 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  echo "kafka stopped (pid $pid, data $DATA)"
}

# --------------------------------------------------------------- status ----

cmd_status() {
  local pid
  if pid=$(broker_pid); then
    echo "kafka running on $HOST:$PORT (pid $pid, data $DATA)"
  else
    echo "kafka not running (data $DATA)"
    exit 3
  fi
}

# ---------------------------------------------------------------- reset ----

cmd_reset() {
  cmd_down
  # Guard against a mistyped SCHAKEL_KAFKA_DATA wiping something precious.
  case ${DATA%/} in
    "" | / | "${HOME%/}" | "$REPO") die "refusing to delete data dir '$DATA'" ;;
  esac
  rm -rf "$DATA"
  echo "kafka data removed ($DATA)"
}

# ----------------------------------------------------------------- tool ----

cmd_tool() {
  [[ $# -ge 1 ]] || die "usage: kafka.sh tool <MainClass> [args...]"
  cmd_fetch
  exec java "${TOOL_JAVA_OPTS[@]}" -cp "$LIBS/*" "$@"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    fetch)  cmd_fetch ;;
    up)     cmd_up ;;
    wait)   cmd_wait "$@" ;;
    down)   cmd_down ;;
    status) cmd_status ;;
    reset)  cmd_reset ;;
    tool)   cmd_tool "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 64 ;;
  esac
}

main "$@"
