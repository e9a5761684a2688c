#!/usr/bin/env bash
# Runs the sandbox battery (tests/sandbox) as an unprivileged user, the way the Docker image
# runs the server. CI calls it as root after the root run of the same tests:
#
#     sudo scripts/test_sandbox_unprivileged.sh [pytest arguments...]
#
# As root it creates the system user $DESCENT_TEST_USER (default descent-test) if it is missing,
# makes sure that user can reach the interpreter behind .venv (granting search permission,
# o+x, on a parent directory that lacks it, e.g. /root when Python lives in /root/.pyenv, and
# restoring the old mode when it ends), checks the venv and the repository are readable, and
# runs pytest as that user with no write access to the repository (no cache, no bytecode).
# Run by an unprivileged user it simply runs the battery as that user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON="$ROOT/.venv/bin/python"
TEST_USER=${DESCENT_TEST_USER:-descent-test}
PYTEST=(-m pytest -p no:cacheprovider -q tests/sandbox "$@")

if [ "$(id -u)" != 0 ]; then
    cd "$ROOT"
    exec env PYTHONDONTWRITEBYTECODE=1 "$PYTHON" "${PYTEST[@]}"
fi

if ! id -u "$TEST_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$TEST_USER"
    echo "created system user $TEST_USER"
fi

as_user() { runuser -u "$TEST_USER" -- "$@"; }

# Search permission on every directory above the interpreter and the repository.
restore=()
cleanup() {
    local entry
    for entry in "${restore[@]}"; do
        chmod "${entry%%:*}" "${entry#*:}"
        echo "restored mode ${entry%%:*} of ${entry#*:}"
    done
}
trap cleanup EXIT
for target in "$(readlink -f "$PYTHON")" "$ROOT/.venv/lib" "$ROOT/app"; do
    dir=/
    IFS=/ read -ra parts <<< "${target#/}"
    for part in "${parts[@]}"; do
        dir="${dir%/}/$part"
        [ -d "$dir" ] || break
        if ! as_user test -x "$dir"; then
            restore+=("$(stat -c %a "$dir"):$dir")
            chmod o+x "$dir"
            echo "granted search (o+x) on $dir for this run"
        fi
    done
done

cd "$ROOT"
if ! as_user "$PYTHON" -c "import torch, numpy, pytest, pyseccomp, app.supervisor" 2>/dev/null; then
    echo "error: $TEST_USER cannot import the venv's packages or the app; make $ROOT/.venv and" >&2
    echo "       $ROOT readable by other users (chmod -R o+rX)" >&2
    exit 1
fi

cd "$ROOT"
echo "running the sandbox battery as $TEST_USER ($(as_user id -u)):"
as_user env HOME=/tmp PYTHONDONTWRITEBYTECODE=1 CI="${CI:-}" "$PYTHON" "${PYTEST[@]}"
