#!/usr/bin/env bash
# Smoke test of the Docker image: build it, run it with the documented least-privilege options,
# and check that it serves a lesson and answers a slider over the WebSocket from a sandboxed
# kernel. Uses docker or podman, whichever works here; with neither, says so and exits 0.
#
#   scripts/smoke_container.sh
#
# Environment (all optional):
#   SMOKE_ENGINE          docker or podman (default: the first that answers)
#   SMOKE_IMAGE           image tag to build and run (default: descent:smoke)
#   SMOKE_SKIP_BUILD=1    run an image built before instead of building it
#   SMOKE_BUILD_ARGS      extra arguments for the build, split on spaces, e.g. "--network host"
#   EXTRA_CA_CERTS, TORCH_VARIANT, TORCH_INDEX_URL
#                         passed on to the build as build arguments when set (see Dockerfile)
#   SMOKE_RUN_ARGS        extra arguments for the run, e.g. "--security-opt apparmor=descent"
#   SMOKE_SECCOMP         seccomp profile for the run (default: deploy/seccomp-userns.json)
#   SMOKE_SANDBOX         sandbox state /healthz must report: strict (default), weak or any
#   SMOKE_TIMEOUT_S       seconds to wait for /healthz and for the kernel (default: 180)
#   SMOKE_KEEP=1          leave the container running (and print its name) when done
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${SMOKE_IMAGE:-descent:smoke}"
EXPECT="${SMOKE_SANDBOX:-strict}"
TIMEOUT="${SMOKE_TIMEOUT_S:-180}"
SECCOMP="${SMOKE_SECCOMP:-$ROOT/deploy/seccomp-userns.json}"
NAME="descent-smoke-$$"

say() { printf 'smoke: %s\n' "$*"; }
fail() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ which engine

engine_works() {
  command -v "$1" >/dev/null 2>&1 || return 1
  if command -v timeout >/dev/null 2>&1; then
    timeout 30 "$1" info >/dev/null 2>&1
  else
    "$1" info >/dev/null 2>&1
  fi
}

ENGINE="${SMOKE_ENGINE:-}"
if [ -n "$ENGINE" ]; then
  engine_works "$ENGINE" || fail "SMOKE_ENGINE=$ENGINE, but '$ENGINE info' does not answer"
else
  for candidate in docker podman; do
    if engine_works "$candidate"; then ENGINE="$candidate"; break; fi
  done
fi
if [ -z "$ENGINE" ]; then
  found=""
  for candidate in docker podman; do
    command -v "$candidate" >/dev/null 2>&1 && found="$found $candidate"
  done
  if [ -n "$found" ]; then
    say "SKIPPED: found${found}, but no container engine answers here ('info' fails:" \
        "no daemon, or no permission to use it)"
  else
    say "SKIPPED: neither docker nor podman is installed"
  fi
  exit 0
fi
say "engine: $ENGINE ($("$ENGINE" --version 2>/dev/null | head -n 1))"

# ------------------------------------------------------------------ build

# The base images must be here or pullable. Where the engine works but no registry answers, the
# test cannot say anything about the image: skip with that reason, so that an absent registry is
# never mistaken for a broken image (a build that fails with its bases present is a failure).
base_images() {
  sed -n 's/^ARG \(PYTHON_IMAGE\|NODE_IMAGE\)=\(.*\)$/\2/p' "$ROOT/Dockerfile"
}

if [ "${SMOKE_SKIP_BUILD:-0}" != "1" ]; then
  for base in $(base_images); do
    "$ENGINE" image inspect "$base" >/dev/null 2>&1 && continue
    say "pulling the base image $base"
    if ! pulled="$(timeout 600 "$ENGINE" pull "$base" 2>&1)"; then
      say "SKIPPED: $ENGINE works, but the base image $base is not here and cannot be" \
          "pulled (no registry reachable?): $(printf '%s' "$pulled" | tail -n 1)"
      exit 0
    fi
  done
  build=("$ENGINE" build -t "$IMAGE")
  # podman's default OCI image format drops HEALTHCHECK; the docker format keeps it.
  [ "$ENGINE" = podman ] && build+=(--format docker)
  # A build argument named without a value takes the value from the environment (PEM text of
  # several lines included).
  for arg in EXTRA_CA_CERTS TORCH_VARIANT TORCH_INDEX_URL; do
    [ -n "${!arg:-}" ] && build+=(--build-arg "$arg")
  done
  # shellcheck disable=SC2206  # word splitting of the extra arguments is intended
  [ -n "${SMOKE_BUILD_ARGS:-}" ] && build+=(${SMOKE_BUILD_ARGS})
  say "building $IMAGE: ${build[*]} $ROOT"
  "${build[@]}" "$ROOT" || fail "the image did not build"
fi

# ------------------------------------------------------------------ run

cleanup() {
  if [ "${SMOKE_KEEP:-0}" = "1" ]; then
    say "left running: $NAME"
  else
    "$ENGINE" rm -f "$NAME" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# The options of deploy/README.md: the seccomp profile that allows user namespaces, /proc
# unmasked so the sandbox can mount its own, no capabilities, no privilege gain.
run=("$ENGINE" run -d --name "$NAME" -p 127.0.0.1::8000
  --security-opt "seccomp=$SECCOMP"
  --security-opt systempaths=unconfined
  --security-opt no-new-privileges
  --cap-drop ALL)
# shellcheck disable=SC2206
[ -n "${SMOKE_RUN_ARGS:-}" ] && run+=(${SMOKE_RUN_ARGS})
run+=("$IMAGE")
say "starting: ${run[*]}"
"${run[@]}" >/dev/null || fail "the container did not start"

logs() { "$ENGINE" logs "$NAME" 2>&1 | tail -n 40 | sed 's/^/  | /' >&2; }

# Every HTTP and WebSocket check runs inside the container with the image's own Python (the
# websockets library comes with uvicorn[standard]), so the host needs nothing but the engine.
in_container() { "$ENGINE" exec -i "$NAME" python - "$@"; }

say "waiting for /healthz (at most ${TIMEOUT}s)"
in_container "$TIMEOUT" "$EXPECT" <<'PY' || { logs; fail "/healthz"; }
import json, sys, time, urllib.request

timeout, expect = float(sys.argv[1]), sys.argv[2]
deadline, last = time.monotonic() + timeout, "no answer"
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/healthz", timeout=5) as resp:
            health = json.load(resp)
        break
    except Exception as exc:  # not listening yet
        last = repr(exc)
        time.sleep(1)
else:
    sys.exit(f"no /healthz within {timeout:.0f}s: {last}")
print(f"smoke: /healthz: {json.dumps(health)}")
if health.get("status") != "ok":
    sys.exit("/healthz status is not ok")
if expect != "any" and health.get("sandbox") != expect:
    missing = ", ".join(health.get("missing_layers") or []) or "none named"
    sys.exit(
        f"the sandbox is {health.get('sandbox')!r}, expected {expect!r} (missing: {missing}); "
        "see deploy/README.md for the run options each layer needs"
    )
PY

# The published port answers from the host too, where the host has curl.
if command -v curl >/dev/null 2>&1; then
  published="$("$ENGINE" port "$NAME" 8000/tcp | head -n 1)"
  published="${published##*-> }"
  curl -fsS --max-time 10 "http://${published}/healthz" >/dev/null \
    || { logs; fail "the published port ${published} does not answer /healthz"; }
  say "published port ${published} answers"
fi

say "lesson page and slider round trip"
in_container "$TIMEOUT" <<'PY' || { logs; fail "lesson page or slider round trip"; }
import asyncio, json, sys, time, urllib.request

timeout = float(sys.argv[1])
BASE, WS = "http://127.0.0.1:8000", "ws://127.0.0.1:8000"

# The lesson page: it draws the line plot, and hands out the learner cookie a socket needs.
with urllib.request.urlopen(f"{BASE}/lessons/the-line", timeout=30) as resp:
    page = resp.read().decode()
    cookie = (resp.headers.get("Set-Cookie") or "").split(";", 1)[0]
if 'data-plot="line"' not in page:
    sys.exit('GET /lessons/the-line has no data-plot="line"')
if not cookie:
    sys.exit("GET /lessons/the-line set no learner cookie")
print('smoke: GET /lessons/the-line: 200, data-plot="line", learner cookie set')

try:  # websockets >= 13
    from websockets.asyncio.client import connect

    def open_socket(url):
        return connect(url, additional_headers={"Cookie": cookie}, max_size=None)
except ImportError:  # older websockets
    from websockets import connect

    def open_socket(url):
        return connect(url, extra_headers={"Cookie": cookie}, max_size=None)


async def until(ws, wanted, what):
    """Messages until one satisfies `wanted`; a kernel error or refusal ends the test."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.exit(f"no {what} within {timeout:.0f}s")
        msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        if msg.get("type") == "error" or (
            msg.get("type") == "status" and msg.get("state") in ("dead", "refused", "full")
        ):
            sys.exit(f"the server answered {json.dumps(msg)[:600]} while waiting for {what}")
        if wanted(msg):
            return msg


async def main():
    async with open_socket(f"{WS}/ws/lessons/the-line") as ws:
        await ws.send(json.dumps({"type": "open", "cells": {}}))
        ready = await until(ws, lambda m: m.get("type") == "ready", "ready")
        print(f"smoke: kernel ready: device={ready.get('device')} sandbox={ready.get('sandbox')}")
        figure = await until(
            ws, lambda m: m.get("type") == "figure" and m.get("plot") == "line", "the line figure"
        )
        xs = figure["figure"]["data"][0]["x"]
        started = time.monotonic()
        await ws.send(json.dumps({"type": "slide", "values": {"w": 2.0}, "seq": 1}))
        patch = await until(
            ws, lambda m: m.get("type") == "patch" and m.get("seq") == 1, "the slider's patch"
        )
        ms = (time.monotonic() - started) * 1000
        ys = patch["patch"]["data"]["y"][0]
        if len(ys) != len(xs) or any(abs(y - 2.0 * x) > 1e-6 for x, y in zip(xs, ys)):
            sys.exit("the patch after w=2 is not the line y = 2x")
        print(f"smoke: slide w=2.0 -> patch seq=1, y = 2x at {len(xs)} points, {ms:.0f} ms")


asyncio.run(main())
PY

say "PASSED ($ENGINE, image $IMAGE)"
