#!/bin/sh
# fw4 runs this after every firewall start, restart and reload (a `config include`
# of type script, added by /etc/uci-defaults/90-bitmesh).
#
# The agent's table `inet bitmesh` is its own (fw4 only rebuilds `inet fw4`), and the
# agent's watchdog rebuilds it within seconds of a `nft flush ruleset`. This is the
# backstop: if the agent runs and the table is still missing a few seconds later, the
# agent is restarted, and it builds the table at start. fw4 still holds its lock
# while this runs, so the wait happens detached.

[ -x /etc/init.d/bitmesh ] || exit 0
/etc/init.d/bitmesh running || exit 0
nft list table inet bitmesh >/dev/null 2>&1 && exit 0

(
	sleep 5
	nft list table inet bitmesh >/dev/null 2>&1 ||
		{ logger -t bitmesh "nft table inet bitmesh missing after firewall restart: restarting the agent"; /etc/init.d/bitmesh restart; }
) >/dev/null 2>&1 &

exit 0
