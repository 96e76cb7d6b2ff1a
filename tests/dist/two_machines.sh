#!/usr/bin/env bash
# Data-parallel `cxr_pggan train` across two machines, emulated on one: two network namespaces joined
# by a veth pair, each with its own address; mpirun starts in the first and reaches the second through
# an rsh agent that enters that namespace (as ssh would log into the other machine), and the processes
# talk over TCP between the two addresses only (docs/distributed.md, "Several machines"). The networks
# must be those of one process with the whole minibatch.
# Needs root (or CAP_NET_ADMIN) to make namespaces; elsewhere it is skipped (exit 77).
# Usage: two_machines.sh CXR_PGGAN WORK_DIR CXR_DIR SAME_WEIGHTS_PY MPIEXEC
set -euo pipefail
P=$1
W=$2
CXR=$3
SAME=$4
MPI=$5
fail() { echo "FAIL: $*" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # CI runs as root

# Names unique to this run, removed whatever happens.
A=pgg$$a B=pgg$$b NET=10.$((($$ >> 8) % 200 + 20)).$(($$ % 250)).
HA=${NET}1 HB=${NET}2
cleanup() { # processes left in a namespace (a daemon of a failed mpirun) keep it alive: stop them first
    for ns in "$A" "$B"; do
        ip netns pids "$ns" 2> /dev/null | xargs -r kill -9 2> /dev/null || true
        ip netns del "$ns" 2> /dev/null || true
    done
}
trap cleanup EXIT
if ! { ip netns add "$A" && ip netns add "$B" && ip link add "v$A" type veth peer name "v$B"; } 2> /dev/null; then
    echo "SKIP: cannot make network namespaces and a veth pair here (needs CAP_NET_ADMIN)"
    exit 77
fi
ip link set "v$A" netns "$A"
ip link set "v$B" netns "$B"
ip -n "$A" addr add "$HA/24" dev "v$A"
ip -n "$B" addr add "$HB/24" dev "v$B"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "v$A" up
ip -n "$B" link set "v$B" up

rm -rf "$W" && mkdir -p "$W" && cd "$W"
cat > agent.sh << EOF
#!/bin/sh
# mpirun's remote shell: "HOST COMMAND" runs COMMAND in HOST's namespace
host=\$1; shift
case \$host in $HA) ns=$A ;; $HB) ns=$B ;; *) echo "agent: unknown host \$host" >&2; exit 1 ;; esac
exec ip netns exec \$ns /bin/sh -c "\$*"
EOF
chmod +x agent.sh

"$P" dataset create_from_images cxr16 "$CXR/images" --resize 16 > /dev/null
S=(--data cxr16 --results runs --set lod_training_kimg=0.05 --set lod_transition_kimg=0.3 --set tick_kimg_base=0.064
   --set minibatch_base=16 --set network_snapshot_ticks=1 --set grid_width=4 --set grid_height=2 --total-kimg 0.192)
"$P" train "${S[@]}" --threads 1 --desc one > one.txt
# One process per "machine"; TCP between the two addresses, no shared memory, no other interface.
ip netns exec "$A" "$MPI" --mca plm_rsh_agent "$PWD/agent.sh" --host "$HA,$HB" -np 2 --map-by node \
    --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include "${NET}0/24" --mca oob_tcp_if_include "${NET}0/24" \
    sh -c 'echo "process $OMPI_COMM_WORLD_RANK: $(ip -o -4 addr show scope global | awk "{print \$4}")" >&2; exec "$0" "$@"' \
    "$P" train "${S[@]}" --threads 1 --desc two > two.txt 2> two.err || fail "the two-machine run: $(tail -5 two.err)"
grep -q "process 0: $HA/24" two.err && grep -q "process 1: $HB/24" two.err ||
    fail "the processes did not run one in each namespace: $(grep '^process' two.err)"
grep -q "2 processes (MPI)" two.txt || fail "the run did not say it had 2 processes: $(head -3 two.txt)"
/usr/bin/python3 "$SAME" runs/000-one/network-final.safetensors runs/001-two/network-final.safetensors --rtol 5e-6 ||
    fail "2 machines trained other networks than 1 process"
# the gradients went over the veth pair: more bytes than one copy of all of G's and D's gradients
sent=$(ip netns exec "$B" cat "/sys/class/net/v$B/statistics/tx_bytes")
params=$(/usr/bin/python3 -c '
import json, math, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n))
print(sum(math.prod(v["shape"]) for k, v in h.items() if k.startswith(("G.", "D."))))' runs/001-two/network-final.safetensors)
[ -n "$params" ] && [ "$sent" -gt $((4 * params)) ] ||
    fail "process 1 sent $sent bytes over the veth pair for ${params:-?} parameters"
echo "two machines (network namespaces $A, $B over veth, TCP): the networks of one process"
