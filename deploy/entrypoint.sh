#!/usr/bin/env bash
# The image's entrypoint: checks what the appliance needs from its container, then becomes
# `faxbot serve` (exec: the appliance is PID 1's child no more, it gets SIGTERM itself).
#
#   faxbot-entrypoint [faxbot serve options]   check, then serve the image's artifact
#   faxbot-entrypoint health                   exit 0 when /health/live answers 200 (HEALTHCHECK)
#
# FAXBOT_PREFIX (default /opt/faxbot) is the environment deploy/build.sh made; FAXBOT_ARTIFACT
# (default: the artifact it compiled there) what to serve. The only place written is the
# artifact's appliance.data_dir (relative to the working directory): a volume this user owns.
# Nothing here reads or prints a secret: config references are resolved by `faxbot serve`.
set -euo pipefail

prefix=${FAXBOT_PREFIX:-/opt/faxbot}
artifact=${FAXBOT_ARTIFACT:-$prefix/share/faxbot/faxbot.resolved.json}
python=$prefix/bin/python
# The install is read-only: no bytecode is written beside it (build.sh compiled it all).
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

die() { echo "faxbot-entrypoint: $*" >&2; exit 2; }

[ -x "$python" ] || die "no Python environment at $prefix (FAXBOT_PREFIX)"
[ -r "$artifact" ] || die "cannot read the artifact $artifact (FAXBOT_ARTIFACT); the image build compiles it"

# One value from the artifact (not a secret: listen address and data_dir are plain settings).
from_artifact() {
  "$python" -c 'import json, sys
appliance = json.load(open(sys.argv[1]))["appliance"]
print(appliance["listen"]["port"] if sys.argv[2] == "port" else appliance["data_dir"])' "$artifact" "$1"
}

if [ "${1:-}" = "health" ]; then
  port=${FAXBOT_PORT:-$(from_artifact port)}
  exec "$python" -c 'import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health/live", timeout=3) as r:
        sys.exit(0 if r.status == 200 else 1)
except OSError as exc:
    print(f"faxbot-entrypoint health: {exc}", file=sys.stderr)
    sys.exit(1)' "$port"
fi

if [ "$(id -u)" -eq 0 ]; then
  echo "faxbot-entrypoint: warning: running as root; the image's user is uid 10001" >&2
fi

data_dir=$(from_artifact data_dir)
case "$data_dir" in /*) ;; *) data_dir=$PWD/$data_dir ;; esac
# The data dir, or the nearest folder above it that exists (the appliance creates the rest).
existing=$data_dir
while [ ! -e "$existing" ]; do existing=$(dirname "$existing"); done
if [ ! -d "$existing" ] || [ ! -w "$existing" ] || [ ! -x "$existing" ]; then
  die "the data directory $data_dir (appliance.data_dir) is not writable by uid $(id -u) gid $(id -g):" \
    "$existing is not a folder this user may write; mount a volume there that it owns" \
    "(compose: a named volume; Kubernetes: securityContext.fsGroup with an emptyDir or a PVC)"
fi

exec "$prefix/bin/faxbot" serve --artifact "$artifact" "$@"
