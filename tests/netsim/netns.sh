#!/bin/sh
# Network namespaces for the network-simulation tests: three "hosts" joined
# by two veth pairs, so the parties cannot reach each other except through
# the fault-injecting proxy in the middle namespace.
#
#   <P>a (listener) 10.77.1.1 --veth-- 10.77.1.2 <P>m (proxy) 10.77.2.1 --veth-- 10.77.2.2 <P>b (connector)
#
# usage: netns.sh up PREFIX [RATE]   create (RATE e.g. 10mbit: tc tbf on both links)
#        netns.sh down PREFIX        remove everything PREFIX created
#        netns.sh check              exit 0 when namespaces can be made here
# PREFIX is at most 8 characters (interface names are <P>am, <P>ma, ...).
set -eu
cmd=${1:-}
P=${2:-ovlns}

check() {
    [ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; return 1; }
    command -v ip >/dev/null 2>&1 || { echo "ip (iproute2) not installed"; return 1; }
    ip netns add "${P}chk" 2>/dev/null || { echo "ip netns add is not permitted here"; return 1; }
    ip netns del "${P}chk"
}

down() {
    for ns in a m b; do ip netns del "$P$ns" 2>/dev/null || true; done
}

up() {
    rate=${1:-}
    down
    for ns in a m b; do ip netns add "$P$ns"; done
    ip link add "${P}am" type veth peer name "${P}ma"
    ip link add "${P}mb" type veth peer name "${P}bm"
    ip link set "${P}am" netns "${P}a"
    ip link set "${P}ma" netns "${P}m"
    ip link set "${P}mb" netns "${P}m"
    ip link set "${P}bm" netns "${P}b"
    ip -n "${P}a" addr add 10.77.1.1/24 dev "${P}am"
    ip -n "${P}m" addr add 10.77.1.2/24 dev "${P}ma"
    ip -n "${P}m" addr add 10.77.2.1/24 dev "${P}mb"
    ip -n "${P}b" addr add 10.77.2.2/24 dev "${P}bm"
    for ns in a m b; do ip -n "$P$ns" link set lo up; done
    ip -n "${P}a" link set "${P}am" up
    ip -n "${P}m" link set "${P}ma" up
    ip -n "${P}m" link set "${P}mb" up
    ip -n "${P}b" link set "${P}bm" up
    # No forwarding in the middle: only the proxy joins the two links.
    ip netns exec "${P}m" sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward' 2>/dev/null || true
    if [ -n "$rate" ]; then
        # netem is unavailable on these kernels; tbf shapes bandwidth (each direction).
        ip netns exec "${P}m" tc qdisc add dev "${P}ma" root tbf rate "$rate" burst 32kbit latency 400ms
        ip netns exec "${P}m" tc qdisc add dev "${P}mb" root tbf rate "$rate" burst 32kbit latency 400ms
    fi
}

case $cmd in
check) check ;;
up) up "${3:-}" ;;
down) down ;;
*) echo "usage: netns.sh up PREFIX [RATE] | down PREFIX | check" >&2; exit 2 ;;
esac
