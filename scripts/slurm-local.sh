#!/usr/bin/env bash
# A throw-away Slurm cluster on this machine, for tests and for trying
# `awd sweep --slurm` without a cluster: munged, slurmctld and one or more
# slurmd run as plain background processes of root, every file (config,
# munge key and socket, state, spool, logs, pid files) in one folder.
#
#   scripts/slurm-local.sh up DIR [NODES]   start it (NODES slurmd on this host, default 1)
#   export SLURM_CONF=DIR/slurm.conf        then sbatch, squeue, sinfo, awd sweep --slurm ...
#   scripts/slurm-local.sh down DIR         stop the daemons by their pid files
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge with apt when
# they are missing (needs root; about 15 s). Two or more nodes are slurmd
# processes with distinct NodeName and Port on the same host, each with the
# host's cores: enough to see a job array spread over nodes.
set -euo pipefail

die() { echo "slurm-local: $*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 up|down DIR [NODES]"

pids() { cat "$dir"/*.pid 2>/dev/null || true; }

down() {
	local p
	# slurmd first (its jobs end with it), then slurmctld, then munged.
	for f in "$dir"/slurmd-*.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
			kill "$p" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
		fi
		rm -f "$f"
	done
}

if [ "$cmd" = down ]; then
	down
	exit 0
fi
[ "$cmd" = up ] || die "unknown command $cmd (want up or down)"
nodes=${3:-1}
[ "$(id -u)" = 0 ] || die "needs root (the daemons run as root)"

need=()
for b in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge; do
	command -v "${b%%:*}" >/dev/null || need+=("${b#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "slurm-local: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
chmod 755 "$dir/munge"

# munge: a fresh key, the socket in our folder (its folder must be 755).
head -c 1024 /dev/urandom >"$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
	--pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"

# Free TCP ports for slurmctld and each slurmd.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
}
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
ctl_port=$(free_port)
{
	cat <<EOF
ClusterName=awdlocal
SlurmctldHost=localhost
SlurmctldPort=$ctl_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
EOF
	for i in $(seq "$nodes"); do
		echo "NodeName=node$i NodeHostname=localhost Port=$(free_port) CPUs=$cpus RealMemory=$mem State=UNKNOWN"
	done
	echo "PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} >"$dir/slurm.conf"
# slurmd 22.05 always loads a cgroup plugin; with task/none and
# proctrack/linuxproc it is not used for anything.
echo "CgroupPlugin=cgroup/v1" >"$dir/cgroup.conf"
export SLURM_CONF="$dir/slurm.conf"

slurmctld -i
for i in $(seq "$nodes"); do
	slurmd -N "node$i"
done

# Ready when every node is idle.
for _ in $(seq 150); do
	if [ "$(sinfo -h -o '%t' 2>/dev/null | grep -c idle || true)" -ge 1 ] &&
		[ "$(sinfo -h -N -o '%T' 2>/dev/null | grep -c '^idle' || true)" -eq "$nodes" ]; then
		echo "slurm-local: $nodes node(s) up; export SLURM_CONF=$SLURM_CONF" >&2
		exit 0
	fi
	sleep 0.2
done
echo "slurm-local: the nodes did not come up in 30 s; logs:" >&2
tail -n 20 "$dir"/*.log >&2 || true
down
exit 1
