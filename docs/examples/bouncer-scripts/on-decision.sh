#!/bin/sh
# Called by crowdsec-custom-bouncer for each decision: replace with what your remediation does.
echo "decision: $*"
