#!/usr/bin/env bash
# Runs docs/sharding.md's Slurm job array on a real Slurm: a one-node cluster on this machine
# (its hostname, its CPUs), the documented scripts in docs/examples/slurm/ submitted as they are
# (4 shards with --checkpoint/--resume and --requeue), one running task killed with
# `scancel --signal=KILL` after it has written a checkpoint, requeued with `scontrol requeue`
# and resumed from that checkpoint, the documented merge as a dependent job, and the merged report
# compared with a one-process run apart from `timing`.
#
#   Tests/Cluster/slurm_array.sh [WEAKSPOT_BINARY]
#
# Optional check (root, a few minutes; not run by CI). Installs Debian's slurm-wlm, munge and jq
# when missing (apt-get), builds `weakspot` (swift build -c release --product weakspot) unless a
# binary is given as the argument or in WEAKSPOT_BIN. Nothing outside its temporary folder is
# configured: munged, slurmctld and slurmd run with their own key, socket, ports, state and logs
# there (SLURM_CONF points at its slurm.conf; /etc/slurm and /etc/munge are not touched), and are
# stopped, and the folder removed, on exit, also on failure (KEEP=1 keeps the folder).
# Environment: WEAKSPOT_SLURM_MODEL (default Fixtures/models/mobilenet_v3_small.onnx),
# WEAKSPOT_SLURM_IMAGES (default 4 of Fixtures/demo/images), WEAKSPOT_SLURM_TIMEOUT (seconds for
# the whole array and merge, default 1800).
# Exit code 0 only when every check below held; each check prints one line.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
examples="$repo/docs/examples/slurm"
shards=4
model="$repo/${WEAKSPOT_SLURM_MODEL:-Fixtures/models/mobilenet_v3_small.onnx}"
image_count=${WEAKSPOT_SLURM_IMAGES:-4}
timeout_s=${WEAKSPOT_SLURM_TIMEOUT:-1800}
passed=0
failed=0

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "[$(date -u +%T)] $*"; }
ok() { passed=$((passed + 1)); echo "  ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
die() { echo "FAIL: $*" >&2; echo "slurm_array: $passed passed, $((failed + 1)) failed" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (installs packages, starts munged, slurmctld and slurmd)"

# --- Packages -------------------------------------------------------------------------------
missing=()
command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
command -v jq >/dev/null || missing+=(jq)
if ((${#missing[@]})); then
    say "installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
say "$(slurmctld -V), $(munged -V 2>&1 | head -1)"

# --- WeakSpot -------------------------------------------------------------------------------
binary=${1:-${WEAKSPOT_BIN:-}}
if [[ -z "$binary" ]]; then
    say "building weakspot (swift build -c release --product weakspot)"
    swift build -c release --product weakspot >/dev/null
    binary="$repo/.build/release/weakspot"
fi
binary=$(realpath "$binary")
[[ -x "$binary" ]] || die "no weakspot binary at $binary"
[[ -f "$model" ]] || die "no model at $model"

# --- The documented scripts are the ones run -------------------------------------------------
for f in weakspot-profile.sbatch weakspot-merge.sbatch submit.sh; do
    if python3 - "$repo/docs/sharding.md" "$examples/$f" <<'EOF'
import sys
doc, script = (open(p, encoding="utf-8").read() for p in sys.argv[1:])
sys.exit(0 if script in doc else 1)
EOF
    then ok "docs/sharding.md shows docs/examples/slurm/$f verbatim"
    else fail "docs/sharding.md does not show docs/examples/slurm/$f verbatim"; fi
done

# --- A private one-node cluster ----------------------------------------------------------------
work=$(mktemp -d /tmp/ws-slurm.XXXXXX)
chmod 755 "$work"          # munged wants every folder above its socket searchable by all
mkdir -p "$work"/{log,state,spool,bin,images,run} && mkdir -m 700 "$work/key" && mkdir -m 755 "$work/munge"
export SLURM_CONF="$work/slurm.conf"

cleanup() {
    local code=$?
    set +e
    if [[ -f "$work/slurmctld.pid" ]] && kill -0 "$(cat "$work/slurmctld.pid")" 2>/dev/null; then
        local jobs
        jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
        [[ -n "${jobs// }" ]] && scancel $jobs 2>/dev/null
        for _ in $(seq 1 20); do [[ -z "$(squeue -h 2>/dev/null)" ]] && break; sleep 0.5; done
    fi
    for daemon in slurmd slurmctld munge/munged; do
        local pidfile="$work/$daemon.pid"
        [[ -f "$pidfile" ]] || continue
        local pid
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
    echo "cleaned up: daemons stopped$( [[ "${KEEP:-0}" == 1 ]] || echo ", $work removed")"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dd if=/dev/urandom of="$work/key/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/key/munge.key"
munged --key-file="$work/key/munge.key" --socket="$work/munge/munge.sock" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/log/munged.log" --seed-file="$work/key/munged.seed" || die "munged did not start: $(tail -2 "$work/log/munged.log")"
munge -n -S "$work/munge/munge.sock" | unmunge -S "$work/munge/munge.sock" >/dev/null || die "munge round trip failed"

host=$(hostname -s)
node=$(slurmd -C | head -1)                 # NodeName=<host> CPUs=… RealMemory=…, as slurmd sees this machine
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node")
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
cat > "$SLURM_CONF" <<EOF
ClusterName=weakspot-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long (BeginTime) before it may start again.
AuthInfo=socket=$work/munge/munge.sock,cred_expire=10
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
# No systemd or cgroup here: processes are tracked through their parents, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobRequeue=1
ReturnToService=2
MinJobAge=3600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || die "slurmctld did not start: $(tail -3 "$work/log/slurmctld.log")"
slurmd -f "$SLURM_CONF" || die "slurmd did not start: $(tail -3 "$work/log/slurmd.log")"
for i in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    [[ "$state" == idle ]] && break
    ((i == 60)) && die "node $host not idle after 30 s (sinfo: '$state'); logs in $work/log"
    sleep 0.5
done
say "cluster up: $node, slurmctld :$ctld_port, slurmd :$slurmd_port"
ok "node $host idle in sinfo ($cpus CPUs)"

# --- Data, and the one-process reference -------------------------------------------------------
ls "$repo/Fixtures/demo/images" | grep -E '\.(jpg|png)$' | sort | sed -n "1,${image_count}p" | while read -r f; do
    ln -s "$repo/Fixtures/demo/images/$f" "$work/images/$f"
done
ln -s "$binary" "$work/bin/weakspot"
export PATH="$work/bin:$PATH" MODEL="$model" DATA="$work/images"
say "one-process run: $(basename "$model") on $image_count images, --items channels,groups, $cpus threads"
start=$(date +%s.%N)
weakspot profile "$MODEL" --data "$DATA" --items channels,groups --threads "$cpus" -o "$work/whole.json" --quiet >/dev/null
whole_s=$(elapsed "$start")
say "one-process run: ${whole_s} s"

# --- The documented submission ----------------------------------------------------------------
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
cd "$work/run"
start=$(date +%s.%N)
submitted=$("$examples/submit.sh" --array=1-$shards --cpus-per-task=1)
array=$(sed -n 's/^array \([0-9]*\), merge \([0-9]*\)$/\1/p' <<<"$submitted")
merge=$(sed -n 's/^array \([0-9]*\), merge \([0-9]*\)$/\2/p' <<<"$submitted")
[[ -n "$array" && -n "$merge" ]] || die "submit.sh printed '$submitted'"
say "submitted with docs/examples/slurm/submit.sh --array=1-$shards --cpus-per-task=1: array $array, merge $merge ($(job_field "$merge" Dependency))"
# Slurm's own view of afterok on an array whose task is requeued (see docs/sharding.md): a probe.
probe=$(sbatch --parsable --dependency=afterok:"$array" --output=/dev/null --wrap=true)

# --- Kill one running task after its first checkpoint, requeue it -------------------------------
victim=""
deadline=$((SECONDS + 600))
while [[ -z "$victim" ]]; do
    ((SECONDS < deadline)) || die "no task ran with a checkpoint within 600 s"
    for t in $(squeue -h -j "$array" -t RUNNING -o %K 2>/dev/null); do
        if [[ -s "shards/shard-$t.ckpt" && ! -e "shards/shard-$t.json" ]]; then victim=$t; break; fi
    done
    sleep 0.5
done
# Let it save its checkpoint twice more (every 2 s at most), so that the kill lands mid-run on
# finished work; at most 15 s.
last=$(stat -c %y "shards/shard-$victim.ckpt"); saves=0
for _ in $(seq 1 30); do
    [[ -e "shards/shard-$victim.json" ]] && break
    now=$(stat -c %y "shards/shard-$victim.ckpt")
    [[ "$now" != "$last" ]] && { saves=$((saves + 1)); last=$now; }
    ((saves >= 2)) && break
    sleep 0.5
done
[[ "$(job_field "${array}_$victim" JobState)" == RUNNING && ! -e "shards/shard-$victim.json" ]] \
    || die "task $victim finished before it could be killed: give it more work (WEAKSPOT_SLURM_IMAGES)"
ckpt_bytes=$(stat -c %s "shards/shard-$victim.ckpt")
say "task ${array}_$victim running, checkpoint $ckpt_bytes bytes: scancel --signal=KILL ${array}_$victim"
scancel --signal=KILL "${array}_$victim"
for i in $(seq 1 60); do
    killed_state=$(job_field "${array}_$victim" JobState)
    [[ "$killed_state" == CANCELLED || "$killed_state" == FAILED ]] && break
    ((i == 60)) && die "task ${array}_$victim still $killed_state 30 s after the kill"
    sleep 0.5
done
if [[ ! -e "shards/shard-$victim.json" && -s "shards/shard-$victim.ckpt" ]]; then
    ok "task ${array}_$victim killed mid-run: $killed_state, no report, its checkpoint kept ($(stat -c %s "shards/shard-$victim.ckpt") bytes)"
else fail "task ${array}_$victim: report written or checkpoint gone after the kill"; fi
say "scontrol requeue ${array}_$victim (--requeue alone does not requeue a cancelled or failed task)"
scontrol requeue "${array}_$victim"
requeued_state=$(job_field "${array}_$victim" JobState)
[[ "$requeued_state" == PENDING || "$requeued_state" == REQUEUED || "$requeued_state" == RUNNING ]] \
    && ok "task ${array}_$victim requeued ($requeued_state, Restarts=$(job_field "${array}_$victim" Restarts))" \
    || fail "task ${array}_$victim is $requeued_state after scontrol requeue"

# --- Wait for the array and the dependent merge -----------------------------------------------
deadline=$((SECONDS + timeout_s))
while :; do
    merge_state=$(job_field "$merge" JobState)
    [[ "$merge_state" == COMPLETED || "$merge_state" == FAILED || "$merge_state" == CANCELLED || "$merge_state" == TIMEOUT ]] && break
    ((SECONDS < deadline)) || die "merge job still $merge_state after $timeout_s s: $(squeue -h -o '%i %T %r' | tr '\n' ';')"
    sleep 2
done
array_s=$(elapsed "$start")
say "array and merge done in ${array_s} s"

for t in $(seq 1 $shards); do
    s=$(job_field "${array}_$t" JobState); e=$(job_field "${array}_$t" ExitCode); r=$(job_field "${array}_$t" Restarts)
    if [[ "$s" == COMPLETED && "$e" == 0:0 ]]; then ok "task ${array}_$t COMPLETED, exit $e, restarts $r"
    else fail "task ${array}_$t $s, exit $e"; fi
done
restarts=$(job_field "${array}_$victim" Restarts)
[[ "$restarts" == 1 ]] && ok "task ${array}_$victim ran twice (Restarts=1)" || fail "task ${array}_$victim Restarts=$restarts"

vlog="shards/shard-$victim.log"
resumed=$(sed -n '/restart 1$/,$p' "$vlog" | grep -m1 "^resuming from shards/shard-$victim.ckpt: " || true)
done_items=$(sed -n 's/^resuming from [^:]*: \([0-9]*\) of \([0-9]*\) items.*/\1/p' <<<"$resumed")
if grep -q "restart 0$" "$vlog" && [[ -n "$resumed" && "${done_items:-0}" -gt 0 ]]; then
    ok "the requeued task resumed from its checkpoint: '$resumed'"
else fail "no resume after the restart in $vlog:"; sed 's/^/    /' "$vlog" >&2; fi
for t in $(seq 1 $shards); do
    [[ "$t" == "$victim" ]] && continue
    if grep -q "^resuming" "shards/shard-$t.log"; then fail "task $t, never killed, says it resumed"; fi
done

if [[ "$merge_state" == COMPLETED && "$(job_field "$merge" ExitCode)" == 0:0 && -s report.json ]]; then
    ok "merge job $merge (afterany:$array) COMPLETED after the requeued task, wrote report.json and report.csv"
else fail "merge job $merge $merge_state:"; sed 's/^/    /' shards/merge.log >&2 || true; fi

if [[ -s report.json ]] && cmp -s <(jq -S 'del(.timing)' report.json) <(jq -S 'del(.timing)' "$work/whole.json"); then
    ok "merged report equals the one-process report apart from timing ($(jq '.items | length' report.json) items)"
else
    fail "merged report differs from the one-process report:"
    [[ -s report.json ]] && diff <(jq -S 'del(.timing)' report.json) <(jq -S 'del(.timing)' "$work/whole.json") | head -20 >&2
fi

probe_state=$(job_field "$probe" JobState); probe_reason=$(job_field "$probe" Reason)
say "observed, not checked: a job with --dependency=afterok:$array is $probe_state ($probe_reason)"
shard_seconds=$(jq -s 'map(.timing.seconds) | add' shards/shard-*.json)
say "one-process run ${whole_s} s on $cpus threads; shards' own timing.seconds sum $shard_seconds s (victim's last attempt only); array + merge wall ${array_s} s"
echo "slurm_array: $passed passed, $failed failed"
((failed == 0))
