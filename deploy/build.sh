#!/usr/bin/env bash
# The image's build steps, as one script that deploy/Dockerfile runs and tests/deploy runs
# here (no container needed). Run from the repository root (the build context):
#
#   deploy/build.sh console                   build the admin console (console/) into the
#                                             appliance's package data
#   deploy/build.sh install PREFIX CONFIG_DIR a virtual environment at PREFIX with the
#                                             appliance and exactly the plugins CONFIG_DIR pins
#   deploy/build.sh compile PREFIX CONFIG_DIR faxbot config compile CONFIG_DIR into
#                                             PREFIX/share/faxbot/faxbot.resolved.json
#
# SOURCE_DATE_EPOCH (seconds since 1970) is honoured: it is the artifact's compiled_at and the
# modification time of every file under PREFIX, so two builds of one commit give the same
# bytes. FAXBOT_SOURCE_REVISION (e.g. the git sha) is recorded in the artifact. PYTHON names
# the interpreter the environment is made from (default python3). Secrets are never read:
# config.d holds references only, which the appliance resolves when it starts.
set -euo pipefail

die() { echo "deploy/build.sh: $*" >&2; exit 2; }
step() { echo "deploy/build.sh: $*" >&2; }

[ -f pyproject.toml ] && [ -d appliance/faxbot ] || die "run me from the repository root"
if [ -n "${SOURCE_DATE_EPOCH:-}" ] && ! [[ "$SOURCE_DATE_EPOCH" =~ ^[0-9]+$ ]]; then
  die "SOURCE_DATE_EPOCH must be whole seconds since 1970, not '$SOURCE_DATE_EPOCH'"
fi

# Where Vite writes the console; the appliance serves it at /admin (package data).
CONSOLE_OUT=appliance/faxbot/server/console

artifact_of() { echo "$1/share/faxbot/faxbot.resolved.json"; }

clamp_mtimes() {  # every file's mtime at most SOURCE_DATE_EPOCH (as reproducible builds ask)
  [ -n "${SOURCE_DATE_EPOCH:-}" ] || return 0
  find "$1" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"
}

build_console() {
  [ -f console/package.json ] || die "console/package.json is missing: run from the repository's root"
  step "building the admin console (npm ci, npm run build)"
  (cd console && npm ci --no-audit --no-fund --loglevel=error && npm run build)
  [ -d "$CONSOLE_OUT" ] || die "the console build wrote nothing to $CONSOLE_OUT"
}

install_appliance() {
  local prefix=$1 config_dir=$2
  [ -d "$config_dir" ] || die "config dir $config_dir does not exist"
  local python=${PYTHON:-python3}
  local pip=("$prefix/bin/python" -m pip install --quiet --disable-pip-version-check
    --no-warn-script-location -c requirements/constraints.txt)
  step "creating the environment $prefix with $("$python" --version)"
  "$python" -m venv "$prefix"
  # Not editable: the image holds no source tree. pip compiles every module to bytecode
  # here, so nothing needs writing next to the code at run time (the root fs is read-only).
  step "installing the appliance"
  "${pip[@]}" '.[postgres]'
  local plugins=() plugin version
  while read -r plugin version; do
    if [ -f "plugins/$plugin/pyproject.toml" ]; then
      plugins+=("./plugins/$plugin")  # first-party: from this tree (compile checks the pin)
    else
      plugins+=("faxbot-plugin-$plugin==$version")  # third-party: the pinned release
    fi
  done < <("$prefix/bin/python" deploy/pinned_plugins.py "$config_dir")
  if [ ${#plugins[@]} -gt 0 ]; then
    step "installing the plugins $config_dir pins: ${plugins[*]}"
    "${pip[@]}" "${plugins[@]}"
  fi
  clamp_mtimes "$prefix"
}

compile_artifact() {
  local prefix=$1 config_dir=$2
  [ -x "$prefix/bin/faxbot" ] || die "$prefix has no faxbot: run 'deploy/build.sh install' first"
  local artifact
  artifact=$(artifact_of "$prefix")
  mkdir -p "$(dirname "$artifact")"
  step "compiling $config_dir"
  # A config.d with any error stops the build here, every error listed (FILE:LINE:COL).
  if ! "$prefix/bin/faxbot" config compile --dir "$config_dir" --out "$artifact"; then
    echo "deploy/build.sh: $config_dir is not a valid config.d (errors above): no image" >&2
    exit 1
  fi
  clamp_mtimes "$prefix"
}

case "${1:-}" in
  console) [ $# -eq 1 ] || die "usage: deploy/build.sh console"; build_console ;;
  install) [ $# -eq 3 ] || die "usage: deploy/build.sh install PREFIX CONFIG_DIR"
    install_appliance "$2" "$3" ;;
  compile) [ $# -eq 3 ] || die "usage: deploy/build.sh compile PREFIX CONFIG_DIR"
    compile_artifact "$2" "$3" ;;
  *) die "usage: deploy/build.sh console | install PREFIX CONFIG_DIR | compile PREFIX CONFIG_DIR" ;;
esac
