# tests/lib/redis.sh - private redis-servers (part of tests/lib/harness.sh)

REDIS_DIR="$MM_TMP/redis"
REDIS_HOST=127.0.0.1
REDIS_PORT=""
REDIS_SOCKET="$REDIS_DIR/redis.sock"
REDIS_PID=""
export REDIS_HOST REDIS_PORT REDIS_SOCKET

# _mm_redis_run DIR PORT [CONF_LINE...] - a redis-server in DIR on
# 127.0.0.1:PORT, no persistence, the lines added to its redis.conf; its
# pid in _mm_redis_pid once it answers
_mm_redis_run() {
    local dir=$1 port=$2 line
    shift 2
    mkdir -p "$dir"
    {
        cat <<EOF
bind 127.0.0.1
port $port
protected-mode yes
daemonize no
save ""
appendonly no
dir $dir
pidfile $dir/redis.pid
logfile ""
EOF
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$dir/redis.conf"
    redis-server "$dir/redis.conf" >"$dir/redis.log" 2>&1 </dev/null {_mm_out}>&- &
    _mm_redis_pid=$!
    # any answer will do (NOAUTH included): redis-cli exits 0 on it
    wait_for 10 redis-cli -h 127.0.0.1 -p "$port" ping || {
        _mm_log_tail "$dir/redis.log"
        fail_fast "redis-server does not answer on $port"
    }
}

# start_redis [CONF_LINE...] - a private redis-server on 127.0.0.1:$REDIS_PORT
# and $REDIS_SOCKET, no persistence; CONF_LINEs (requirepass, user, ...) are
# added to its redis.conf
start_redis() {
    [ -n "$REDIS_PORT" ] || free_port REDIS_PORT
    export REDIS_PORT
    _mm_redis_run "$REDIS_DIR" "$REDIS_PORT" "unixsocket $REDIS_SOCKET" "unixsocketperm 777" "$@"
    REDIS_PID=$_mm_redis_pid
}

# start_redis_more NAME [CONF_LINE...] - one more private redis-server (a
# replica: "replicaof 127.0.0.1 $REDIS_PORT"), its port in ${NAME}_PORT and
# its pid in ${NAME}_PID, stopped when the test ends
start_redis_more() {
    local name=$1 port
    shift
    free_port port
    _mm_redis_run "$MM_TMP/redis-$name" "$port" "$@"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_PID" '%s' "$_mm_redis_pid"
    register_pid "$_mm_redis_pid"
}

# stop_redis - shut the private Redis down without saving
stop_redis() {
    [ -n "$REDIS_PID" ] || return 0
    redis_cli shutdown nosave >/dev/null 2>&1
    _mm_wait_gone "$REDIS_PID" 5
    _mm_stop_pid "$REDIS_PID" 5
    REDIS_PID=""
}

# redis_cli - redis-cli against the private instance: redis_cli GET key
redis_cli() {
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
}
