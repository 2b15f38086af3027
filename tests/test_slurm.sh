#!/bin/sh
# The Slurm path of `dlbench run --emit slurm`, on a real single-node Slurm
# started here: munged with a generated key, slurmctld and slurmd with a
# generated slurm.conf (this machine as the only node, state in a temporary
# directory, its own ports), all three stopped at the end by their PIDs.
# The emitted script submits a job array of 2 shards of a small matrix of
# the stand-in workload and a merge job (--dependency=afterok); the test
# waits for them and checks that the merged directory holds the unsharded
# run's cells, row for row.
#
# Not in tests/list (it starts daemons and needs root, munge and
# slurm-wlm: Debian packages slurm-wlm, munge); run it by hand:
#     sh tests/test_slurm.sh [BUILD_DIR]
set -u
B=${1:-build}
DL="$PWD/$B/tests/dlbench_fake"
T=$(mktemp -d /tmp/test_slurm.XXXXXX)
chmod 755 "$T"
failures=0
pids=""

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

stop() {
	for p in $pids; do
		kill "$p" 2> /dev/null
	done
	for p in $pids; do
		wait "$p" 2> /dev/null
	done
	pids=""
}
trap stop EXIT

for cmd in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
	command -v $cmd > /dev/null || { echo "test_slurm: $cmd missing (apt-get install slurm-wlm munge)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "test_slurm: slurmd must run as root here"; exit 1; }
[ -x "$DL" ] || { echo "test_slurm: no $DL (ninja first)"; exit 1; }

# ---- munge: a key of our own, its own socket
dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 2> /dev/null
chmod 400 "$T/munge.key"
munged -F -f --socket="$T/munge.sock" --key-file="$T/munge.key" --pid-file="$T/munged.pid" \
	--log-file="$T/munged.log" --seed-file="$T/munged.seed" > "$T/munged.out" 2>&1 &
pids="$pids $!"

# ---- Slurm: this machine as the one node
node=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
port=$((20000 + $$ % 20000))
mkdir -p "$T/state" "$T/spool"
cat > "$T/slurm.conf" <<EOF
ClusterName=dlbench-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
sleep 1
slurmctld -D -i > "$T/slurmctld.out" 2>&1 &
pids="$pids $!"
sleep 1
slurmd -D > "$T/slurmd.out" 2>&1 &
pids="$pids $!"
n=0
until sinfo -h -o %t 2> /dev/null | grep -q '^idle'; do
	n=$((n + 1))
	if [ $n -ge 60 ]; then
		echo "test_slurm: the node never came up; logs in $T:"
		tail -5 "$T/slurmctld.log" "$T/slurmd.log" "$T/munged.log" 2> /dev/null
		exit 1
	fi
	sleep 0.5
done
echo "slurm up: $(sinfo -h -o '%P %a %D %t %N')"

# ---- a small matrix; b's fail cells make the shards exit 1 (still merged)
cp tests/fake_matrix.ini "$T/c.ini"
cd "$T" || exit 1
"$DL" run -P --out full c.ini > full.out 2>&1
"$DL" run c.ini --emit slurm --shards 2 --out sl > sl.sh || fail "--emit slurm"
sh sl.sh > submit.out 2>&1 || fail "the Slurm script: $(cat submit.out)"
cat submit.out
merge=$(sed -n 's/.*merge job \([0-9]*\);.*/\1/p' submit.out)
[ -n "$merge" ] || { fail "no merge job id"; exit 1; }
n=0
while squeue -h 2> /dev/null | grep -q .; do
	n=$((n + 1))
	[ $n -lt 600 ] || { fail "jobs still queued after 5 minutes: $(squeue)"; break; }
	sleep 0.5
done
# one line per job (an array: one per task): its id, name, state, exit code
for j in $(sed -n 's/.*job array \([0-9]*\) .*/\1/p' submit.out) $merge; do
	scontrol -o show job "$j" | tr ' ' '\n' |
		grep '^JobId=\|^ArrayTaskId=\|^JobName=\|^JobState=\|^ExitCode=' | tr '\n' ' ' |
		sed 's/ JobId=/\nJobId=/g'
	echo
done > jobs.txt
cat jobs.txt
[ "$(grep -c 'JobName=dlbench-shard.*JobState=COMPLETED ExitCode=0:0' jobs.txt)" -eq 2 ] ||
	fail "the 2 shard jobs did not complete (exit 1 of a shard with failed cells counts as done)"
# the merge reports the failed cells: exit 1, and it ran after the shards
grep -q 'JobName=dlbench-merge JobState=FAILED ExitCode=1:0' jobs.txt || fail "merge job: $(grep merge jobs.txt)"
rows() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "duration_s") d = i }
		 { for (i = 1; i <= NF; i++) if (i != d) printf "%s%s", $i, (i < NF ? "," : "\n") }' "$1" |
		sort
}
[ -f sl/merged/cells.csv ] || fail "no merged directory: $(cat sl/slurm-merge.log)"
[ "$(rows sl/merged/cells.csv)" = "$(rows full/cells.csv)" ] || fail "merged cells.csv differs from the unsharded run's"
cmp -s sl/merged/fake/summary.csv full/fake/summary.csv || fail "merged summary.csv differs from the unsharded run's"
echo "merge log:"
cat sl/slurm-merge.log
echo "merged cells.csv header: $(head -1 sl/merged/cells.csv)"
echo "merged summary.csv header: $(head -1 sl/merged/fake/summary.csv)"
cd - > /dev/null
stop
if [ $failures -eq 0 ]; then
	rm -rf "$T"
	echo "test_slurm: 0 failures"
	exit 0
fi
echo "test_slurm: $failures failures (files kept in $T)"
exit 1
