"""Write descent-userns.json, the seccomp profile the kubelet loads for Descent's pods, from
deploy/seccomp-userns.json, the profile Docker and Podman load for its container.

The two files hold the same rules in two formats. deploy/seccomp-userns.json is in Docker's
format: some entries apply only to containers holding a capability (`includes.caps`), only on
some architectures (`includes.arches`, `excludes.arches`), or from some kernel version on
(`minKernel`), and Docker resolves those conditions when it starts a container. A kubelet
"Localhost" profile is handed to the runtime as it is; containerd reads it as the OCI runtime
spec's seccomp object, which has no conditions: Docker's file would apply every conditional
entry to every container, and `setns`, `bpf`, `chroot`, `clone3` and the other calls Docker
keeps for containers holding a capability would reach the kernel. This script resolves the
conditions the way Docker does for Descent's pod:

- no capabilities (the pod drops ALL): entries that need one are left out, entries that only
  exclude one are kept;
- x86-64 or arm64 nodes: entries for those architectures (and their 32-bit compat modes) are
  kept, entries for others are left out; a name an architecture lacks is skipped by the runtime;
- kernels of 4.8 or later (user-namespaced pods need 6.3): `minKernel` entries are kept;
- no `architectures`: the runtime filters the node's native architecture.

Run it after changing deploy/seccomp-userns.json:

    python3 deploy/kubernetes/node-setup/make_profile.py          # rewrites descent-userns.json
    python3 deploy/kubernetes/node-setup/make_profile.py --check  # exit 1 if it is stale

tests/deploy/test_kubernetes.py runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "seccomp-userns.json"
TARGET = HERE / "descent-userns.json"

#: Docker's names for the architectures of x86-64 and arm64 nodes, with their compat modes.
NODE_ARCHES = frozenset({"amd64", "x86", "x32", "arm64", "arm"})
#: What an OCI seccomp rule may carry, in the order written.
RULE_KEYS = ("names", "action", "errnoRet", "args", "comment")


class Unresolvable(ValueError):
    """A condition this script cannot decide for every node architecture it serves."""


def applies(rule: dict[str, Any]) -> bool:
    """Whether Docker would load this rule for a container without capabilities on an x86-64
    or arm64 node with a current kernel."""
    includes: dict[str, Any] = rule.get("includes") or {}
    excludes: dict[str, Any] = rule.get("excludes") or {}
    unknown = (set(includes) | set(excludes)) - {"caps", "arches", "minKernel"}
    if unknown:
        raise Unresolvable(f"{rule['names']}: unknown condition {sorted(unknown)}")
    if includes.get("caps"):
        return False
    if includes.get("arches") and not NODE_ARCHES & set(includes["arches"]):
        return False
    if NODE_ARCHES & set(excludes.get("arches") or ()):
        raise Unresolvable(f"{rule['names']}: excluded on some node architectures")
    return True


def oci_profile(docker: dict[str, Any]) -> dict[str, Any]:
    """The OCI seccomp object for Descent's pod, from a profile in Docker's format."""
    profile: dict[str, Any] = {"defaultAction": docker["defaultAction"]}
    if "defaultErrnoRet" in docker:
        profile["defaultErrnoRet"] = docker["defaultErrnoRet"]
    profile["syscalls"] = [
        {key: rule[key] for key in RULE_KEYS if key in rule}
        for rule in docker["syscalls"]
        if applies(rule)
    ]
    return profile


def rendered() -> str:
    docker = json.loads(SOURCE.read_text(encoding="utf-8"))
    return json.dumps(oci_profile(docker), indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    check = parser.parse_args().check
    text = rendered()
    if check:
        if not TARGET.is_file() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.name} is stale: run {Path(__file__).name} again", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.name}: {len(json.loads(text)['syscalls'])} rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
