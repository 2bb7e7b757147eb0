# Helpers of every testbed run script (busybox sh in the guest, POSIX sh on a host).
# Set by the script before this: RUN, WORK, OUT, IP, NSENTER, NETNS.  Times are seconds of
# /proc/uptime (busybox date has no sub-second resolution); T0 is the moment
# the pool users start.

progress() { echo "MECPOOL-PROGRESS $RUN $*"; }

uptime_s() { read -r _up _rest < /proc/uptime; echo "$_up"; }

# event NAME: built-ins only (no fork): it runs for every process started.
event() { read -r _up _rest < /proc/uptime; echo "$1 $_up" >> "$WORK/events.txt"; }

past() { awk -v now="$(uptime_s)" -v end="$1" 'BEGIN { exit !(now >= end) }'; }

after() { awk -v now="$(uptime_s)" -v d="$1" 'BEGIN { printf "%.3f", now + d }'; }

# step ARGV...: one set-up command; its failure ends the run.
step() {
    echo "+ $*" >> "$WORK/logs/setup.log"
    "$@" >> "$WORK/logs/setup.log" 2>&1 || fail "set-up command failed: $*"
}

# start NAME NAMESPACE ARGV...: a background process in a site's network
# namespace.  nsenter -F execs the program without forking, so $! is the
# program's own PID (and it is much cheaper than `ip netns exec`, which also
# remounts /sys: it matters when 100+ PUs start under TCG).  A script's
# background jobs start with SIGINT ignored; rspserver's and rspregistrar's
# break detectors install their own handler, which the SIGINT at the end uses.
start() {
    _name=$1; _ns=$2; shift 2
    echo "+ $*" >> "$WORK/logs/$_name.log"
    $NSENTER -F --net="$NETNS/$_ns" "$@" >> "$WORK/logs/$_name.log" 2>&1 &
    echo $! > "$WORK/pids/$_name"
    event "start:$_name"
}

# start_here NAME ARGV...: the same, in this namespace (a real UE: `mecpool measure`).
start_here() {
    _name=$1; shift
    echo "+ $*" >> "$WORK/logs/$_name.log"
    "$@" >> "$WORK/logs/$_name.log" 2>&1 &
    echo $! > "$WORK/pids/$_name"
    event "start:$_name"
}

pid_of() { cat "$WORK/pids/$1" 2>/dev/null; }

# alive NAME: running and not a zombie (the shell reaps children only in wait).
# Shell built-ins only: it is polled for every process while a run ends.
alive() {
    _p=""
    [ -r "$WORK/pids/$1" ] && read -r _p < "$WORK/pids/$1"
    [ -n "$_p" ] && [ -r "/proc/$_p/stat" ] || return 1
    read -r _x _y _state _rest < "/proc/$_p/stat" 2>/dev/null || return 1
    [ "$_state" != "Z" ] && [ "$_state" != "X" ]
}

# signal SIG NAME...
signal() {
    _sig=$1; shift
    for _n in "$@"; do
        _p=$(pid_of "$_n")
        [ -n "$_p" ] && kill -"$_sig" "$_p" 2>/dev/null
        event "$_sig:$_n"
    done
}

# wait_gone SECONDS NAME...: until all have exited; prints those still running.
wait_gone() {
    _end=$(after "$1"); shift
    while :; do
        _left=""
        for _n in "$@"; do alive "$_n" && _left="$_left $_n"; done
        [ -z "$_left" ] && return 0
        if past "$_end"; then echo "$_left"; return 1; fi
        sleep 1
    done
}

# where_stuck NAME: state, kernel wait channel and system call of every thread.
where_stuck() {
    _p=$(pid_of "$1")
    for _t in /proc/"$_p"/task/*; do
        echo "$_t: $(awk '{ print $3 }' "$_t/stat") wchan=$(cat "$_t/wchan") syscall=$(cat "$_t/syscall")"
        grep -E '^(SigQ|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)' "$_t/status" | tr '\n' ' '; echo
    done
}

# stop_all SIG SECONDS NAME...: signal, wait, SIGKILL what is left (noted in the status).
stop_all() {
    _sig=$1; _secs=$2; shift 2
    signal "$_sig" "$@"
    wait_all "$_secs" "after SIG$_sig" "$@"
}

# wait_all SECONDS WHY NAME...: wait for all to end; SIGKILL what is left (noted).
wait_all() {
    _secs=$1; _why=$2; shift 2
    _left=$(wait_gone "$_secs" "$@") || {
        echo "killed $_why:$_left" >> "$WORK/warnings"
        for _n in $_left; do where_stuck "$_n" > "$WORK/logs/$_n.stuck" 2>&1; done
        signal KILL $_left
        wait_gone 5 $_left > /dev/null
    }
}

# hsdump_to FILE NAMESPACE ENDPOINT
hsdump_to() { timeout 20 $NSENTER -F --net="$NETNS/$2" hsdump "$3" > "$1" 2>&1; }

# wait_registered SECONDS LABEL NAMESPACE ENDPOINT ID...: until the registrar's
# handlespace lists every PE identifier (hex, 8 digits); prints the missing ones.
wait_registered() {
    _end=$(after "$1"); _label=$2; _ns=$3; _ep=$4; shift 4
    _file="$WORK/logs/hsdump-$_label.txt"
    while :; do
        hsdump_to "$_file" "$_ns" "$_ep"
        _missing=""
        for _id in "$@"; do grep -F -q ": \$$_id " "$_file" || _missing="$_missing $_id"; done
        [ -z "$_missing" ] && return 0
        if past "$_end"; then echo "$_missing"; return 1; fi
        sleep 0.5
    done
}

# wait_busy SECONDS NAME: until the PE works on a job, by its own log (rspserver
# prints " Job added (N are running)" and " Job removed (N still running)");
# records "busy:NAME:N" (N = 0 when it stayed idle).
wait_busy() {
    _end=$(after "$1"); _name=$2
    while :; do
        _n=$(grep -E "Job (added|removed) \(" "$WORK/logs/$_name.log" | tail -n 1 |
             sed -n 's/.*(\([0-9]*\) .*/\1/p')
        if [ -n "$_n" ] && [ "$_n" -gt 0 ]; then event "busy:$_name:$_n"; return 0; fi
        if past "$_end"; then event "busy:$_name:0"; return 1; fi
        sleep 0.2
    done
}

# sleep_until SECONDS: until T0 + SECONDS.
sleep_until() {
    _d=$(awk -v t0="$T0" -v at="$1" -v now="$(uptime_s)" \
        'BEGIN { d = t0 + at - now; if (d < 0) d = 0; printf "%.3f", d }')
    sleep "$_d"
}

# fail MESSAGE: stop everything, keep the logs, end the run with status 1.
fail() {
    echo "MECPOOL-ERROR $RUN $*"
    echo "error: $*" > "$WORK/status"
    for _f in "$WORK"/pids/*; do
        [ -e "$_f" ] && kill -KILL "$(cat "$_f")" 2>/dev/null
    done
    wait
    teardown
    collect
    exit 1
}

collect() {
    rm -rf "$WORK/pids"
    mkdir -p "$OUT" && cp -r "$WORK"/. "$OUT"/ && rm -rf "$WORK"
}

# now_us: wall-clock time with microseconds (busybox date has whole seconds only;
# adjtimex without options only reads the clock).
now_us() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d.%06d", s, u }'; }

# hsdump_loop FILE NAMESPACE ENDPOINT SECONDS PAUSE: hsdump for SECONDS, PAUSE seconds
# apart; each dump follows a line "=== START END" (wall clock before it began and after
# it ended).
hsdump_loop() {
    _lend=$(after "$4")
    while ! past "$_lend"; do
        sleep "$5"
        _t0=$(now_us)
        timeout 20 $NSENTER -F --net="$NETNS/$2" hsdump "$3" > "$1.one" 2>&1
        _t1=$(now_us)
        { echo "=== $_t0 $_t1"; cat "$1.one"; } >> "$1"
    done
    rm -f "$1.one"
}
