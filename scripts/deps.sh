#!/usr/bin/env bash
# deps.sh — installs the Debian 12 packages smcgen needs to build and test.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS="build-essential cmake pkg-config libpcre2-dev libcjson-dev libsqlite3-dev libseccomp-dev clang libclang-rt-14-dev python3 python3-rdkit gnuplot-nox
      python3-numpy python3-pandas python3-scipy python3-sklearn python3-matplotlib
      libmicrohttpd-dev nginx curl
      python3-dev python3-pytest python3-setuptools python3-wheel python3-pip python3-venv"
# GNU parallel and Slurm run the sharded-eval test (tests/slurm: a localhost cluster, as root).
PKGS="$PKGS parallel slurm-wlm munge"
# Node and npm run the server's client tests (the openai package); any recent Node will do.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
# Chromium (headless) runs the trace viewer's page test (tests/cli/test_view.sh).
[ -x /usr/bin/chromium ] || PKGS="$PKGS chromium"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $missing
fi
