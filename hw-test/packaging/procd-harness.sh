#!/bin/sh
# Runs an OpenWrt procd init script's start_service and service_triggers against stubs
# of /lib/functions/procd.sh that record every call, one line each, arguments in [].
# Usage: procd-harness.sh LOG INITSCRIPT MEMINFO STATEDIR
set -eu
LOG=$1
INIT=$2
FAKE_MEMINFO=$3
FAKE_STATE_DIR=$4

rec() {
	name=$1
	shift
	line=$name
	for a in "$@"; do line="$line [$a]"; done
	printf '%s\n' "$line" >>"$LOG"
}

procd_open_instance() { rec open_instance "$@"; }
procd_close_instance() { rec close_instance "$@"; }
procd_set_param() { rec set_param "$@"; }
procd_append_param() { rec append_param "$@"; }
procd_add_reload_trigger() { rec add_reload_trigger "$@"; }
procd_add_reload_interface_trigger() { rec add_reload_interface_trigger "$@"; }
procd_add_interface_trigger() { rec add_interface_trigger "$@"; }
procd_add_raw_trigger() { rec add_raw_trigger "$@"; }
procd_add_config_trigger() { rec add_config_trigger "$@"; }
procd_add_validation() { rec add_validation "$@"; }

# rc.common sources the script (its #! line is a comment to the shell) and calls these.
# shellcheck source=/dev/null
. "$INIT"
# shellcheck disable=SC2034  # read by the init script's functions
MEMINFO=$FAKE_MEMINFO
# shellcheck disable=SC2034
STATE_DIR=$FAKE_STATE_DIR
rec globals "USE_PROCD=${USE_PROCD:-}" "START=${START:-}" "STOP=${STOP:-}"
start_service
service_triggers
