#!/bin/sh
# The bitmesh command: the agent bundle run by Node.
exec /usr/bin/node /usr/lib/bitmesh/bitmesh.js "$@"
