#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, without systemd, for apogrid's Slurm tests
# (tests/slurm.rs) and scripts/bench-slurm.sh. Recipe: /work/shared/FACTS.md, "A real
# single-node Slurm, without systemd". Needs root and apt (Debian bookworm: Slurm 22.05).
#
#   scripts/slurm-local.sh start    install if missing, start munged, slurmctld, slurmd (idempotent)
#   scripts/slurm-local.sh status   is it up? (exit 0 when it is)
#   scripts/slurm-local.sh stop     stop the daemons this script started, remove their state
#
# State (keys, config, spool, logs, pid files) lives under $SLURM_LOCAL_DIR (default
# /tmp/apogrid-slurm). /etc/slurm/slurm.conf becomes a link to the config there, so sbatch and
# squeue find the cluster without SLURM_CONF; an existing, foreign slurm.conf is left alone and
# the script refuses to start.
set -euo pipefail

DIR="${SLURM_LOCAL_DIR:-/tmp/apogrid-slurm}"
CONF="$DIR/slurm.conf"
ETC_CONF=/etc/slurm/slurm.conf
say() { echo "slurm-local: $*"; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

up() {
    alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid" || return 1
    timeout 5 scontrol ping 2>/dev/null | grep -q UP || return 1
    timeout 5 sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'
}

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null && command -v mungekey >/dev/null; then
        return
    fi
    say "installing slurmctld slurmd slurm-client munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
    fi
}

write_conf() {
    local cpus mem
    cpus=$(nproc)
    # Leave a quarter of the memory to the rest of the machine.
    mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 3 / 4 }' /proc/meminfo)
    cat >"$CONF" <<EOF
ClusterName=apogrid-local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket.2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
MpiDefault=none
SlurmdParameters=config_overrides
# Fast turnaround for tests: FIFO scheduling on every submit and end, short kill and job-age
# waits (finished jobs stay visible to squeue --states=all for MinJobAge seconds); batch jobs
# are scheduled at once (batch_sched_delay defaults to 3 s: measured 2.8 s from submit to start).
SchedulerType=sched/builtin
SchedulerParameters=sched_min_interval=0,batch_sched_delay=0
KillWait=2
MinJobAge=300
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    mkdir -p "$DIR/munge"
    chmod 755 "$DIR/munge"
    chmod 755 "$DIR"
    if alive "$DIR/munged.pid"; then
        return
    fi
    [ -f "$DIR/munge.key" ] || mungekey --create --keyfile="$DIR/munge.key"
    chmod 600 "$DIR/munge.key"
    munged --force --socket="$DIR/munge/munge.socket.2" --key-file="$DIR/munge.key" \
        --pid-file="$DIR/munged.pid" --seed-file="$DIR/munge.seed" --log-file="$DIR/munged.log"
    say "munged started (pid $(cat "$DIR/munged.pid"))"
}

link_conf() {
    mkdir -p /etc/slurm
    if [ -e "$ETC_CONF" ] && [ "$(readlink "$ETC_CONF" || true)" != "$CONF" ]; then
        say "refusing: $ETC_CONF exists and is not this script's; point SLURM_CONF at $CONF yourself"
        exit 1
    fi
    ln -sfn "$CONF" "$ETC_CONF"
}

start() {
    if up; then
        say "already up ($CONF)"
        return
    fi
    install
    mkdir -p "$DIR/state" "$DIR/spool"
    start_munge
    write_conf
    link_conf
    alive "$DIR/slurmctld.pid" || { slurmctld -i -f "$CONF" && say "slurmctld started"; }
    alive "$DIR/slurmd.pid" || { slurmd -N localhost -f "$CONF" && say "slurmd started"; }
    for _ in $(seq 1 60); do
        if up; then
            say "up: $(sinfo -h -o '%P %D node(s) %c CPUs %m MB %t')"
            return
        fi
        sleep 0.5
    done
    say "did not come up; logs: $DIR/slurmctld.log $DIR/slurmd.log"
    tail -5 "$DIR/slurmctld.log" "$DIR/slurmd.log" 2>/dev/null || true
    exit 1
}

stop_one() {
    local name=$1 pidfile="$DIR/$1.pid"
    if alive "$pidfile"; then
        local pid
        pid=$(cat "$pidfile")
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        say "$name stopped (pid $pid)"
    fi
}

stop() {
    stop_one slurmd
    stop_one slurmctld
    stop_one munged
    if [ "$(readlink "$ETC_CONF" 2>/dev/null || true)" = "$CONF" ]; then
        rm -f "$ETC_CONF"
    fi
    rm -rf "$DIR"
    say "stopped; removed $DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status)
        if up; then say "up: $(sinfo -h -o '%P %D node(s) %c CPUs %t')"; else say "down"; exit 1; fi
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
