"""The Kubernetes manifests of deploy/kubernetes/, checked offline.

Every manifest is validated against the Kubernetes OpenAPI schemas that the `kubernetes-validate`
package ships (strict: an unknown field is an error), for the oldest release the pods need
(1.33: user namespaces and `procMount` on by default) and the newest the package knows. Where
`kubectl` is installed, each kustomization (the server, the GPU overlay, the node setup, each
optional component) is rendered by `kubectl kustomize`, which needs no cluster, and every
rendered object is validated too; elsewhere those tests are skipped and the files are still
validated one by one.

Then what a schema cannot see: the settings the pods get exist in the server and in the
README's table, and their values are accepted by the server's own settings; the probes ask
/healthz on the port the server listens on; the seccomp profile the pods name is the one the
node setup installs, made from deploy/seccomp-userns.json, and, loaded the way runc loads it,
lets bubblewrap build the sandbox; the secrets come from the Secret the example describes; the
memory the pods get covers the arithmetic of deploy/kubernetes/README.md.

None of this needs a cluster, and none of it shows what only a cluster can (README.md, "What
was tested").
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from app.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
NODE_SETUP = KUBE / "node-setup"
COMPONENTS = sorted(p for p in (KUBE / "components").iterdir() if p.is_dir())
EXAMPLE_SECRET = KUBE / "secret.example.yaml"
DOCKER_PROFILE = ROOT / "deploy" / "seccomp-userns.json"
NODE_PROFILE = NODE_SETUP / "descent-userns.json"
README = ROOT / "README.md"
KUBE_README = KUBE / "README.md"
DOCKERFILE = ROOT / "Dockerfile"

#: The oldest Kubernetes whose defaults run these pods, and the newest the package knows.
VERSIONS = ("1.33", ".".join(latest_version().split(".")[:2]))
#: The kustomizations an operator applies (kubectl apply -k).
KUSTOMIZATIONS = (KUBE, KUBE / "base", KUBE / "overlays" / "gpu", NODE_SETUP)
SERVER_KUSTOMIZATIONS = (KUBE, KUBE / "overlays" / "gpu")
KUBECTL = shutil.which("kubectl")
TABLE_ROW = re.compile(r"^\|\s*`(?P<name>DESCENT_[A-Z0-9_]+)`\s*\|")

#: deploy/kubernetes/README.md, "Sizing": MiB for the web process, the zygote, an idle kernel,
#: and how many kernels at their whole budget the request and the limit leave room for.
WEB_MIB, ZYGOTE_MIB, IDLE_KERNEL_MIB = 200, 400, 10
FULL_KERNELS_IN_REQUEST, FULL_KERNELS_IN_LIMIT = 1, 5
HEALTHZ = "/healthz"
SECCOMP_ROOT = "/var/lib/kubelet/seccomp"


# ------------------------------------------------------------------------------------------
# Reading the files


def load_yaml(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def kustomization(folder: Path) -> dict[str, Any]:
    docs = load_yaml(folder / "kustomization.yaml")
    assert len(docs) == 1, f"{folder / 'kustomization.yaml'}: one document expected"
    return docs[0]


def all_kustomization_folders() -> list[Path]:
    return sorted(p.parent for p in KUBE.rglob("kustomization.yaml"))


def listed_paths(folder: Path) -> dict[str, list[Path]]:
    """What a kustomization names, by role, as paths: resources (files or folders), patch
    files, components, and files read by generators."""
    k = kustomization(folder)
    roles: dict[str, list[Path]] = {"resources": [], "patches": [], "components": [], "files": []}
    for entry in k.get("resources", []):
        roles["resources"].append(folder / entry)
    for entry in k.get("components", []):
        roles["components"].append(folder / entry)
    for patch in k.get("patches", []):
        if "path" in patch:
            roles["patches"].append(folder / patch["path"])
    for entry in k.get("patchesStrategicMerge", []):
        roles["patches"].append(folder / entry)
    for generator in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        for item in generator.get("files", []) + generator.get("envs", []):
            roles["files"].append(folder / item.split("=", 1)[-1])
    return roles


def resource_files() -> list[Path]:
    """Every manifest file some kustomization lists as a resource (whole objects)."""
    found = {
        path.resolve()
        for folder in all_kustomization_folders()
        for path in listed_paths(folder)["resources"]
        if path.is_file()
    }
    return sorted(found)


def patch_files() -> list[Path]:
    found = {
        path.resolve()
        for folder in all_kustomization_folders()
        for path in listed_paths(folder)["patches"]
    }
    return sorted(found)


def render(folder: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize` of a folder: no cluster involved."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: kustomizations were not rendered")
    proc = subprocess.run(
        [KUBECTL, "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"kubectl kustomize {folder}: {proc.stderr}"
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def render_with_component(component: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """The server with one optional component, as an operator's kustomization would add it."""
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(KUBE, tmp_path)],
                "components": [os.path.relpath(component, tmp_path)],
            }
        ),
        encoding="utf-8",
    )
    return render(tmp_path)


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def server_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    found = [c for c in containers if c["name"] == "descent"]
    assert len(found) == 1, "the Deployment has no container named descent"
    return found[0]


def env_values(container: dict[str, Any]) -> dict[str, str]:
    """The container's variables with a literal value."""
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def containers_in(doc: Any) -> Iterator[dict[str, Any]]:
    """Every container spec anywhere in a document (manifests and patches alike)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from containers_in(value)
    elif isinstance(doc, list):
        for item in doc:
            yield from containers_in(item)


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}
    units |= {"k": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity.removesuffix(suffix)) * factor
    return float(quantity) / 2**20


def validate(doc: dict[str, Any], where: str) -> None:
    for version in VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path)
            pytest.fail(f"{where}: {doc['kind']} invalid for Kubernetes {version}: {path}: {err}")


def documented_settings() -> set[str]:
    """The `DESCENT_*` names in the first column of the README's Markdown tables."""
    names = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        if m := TABLE_ROW.match(line.strip()):
            names.add(m.group("name"))
    return names


# ------------------------------------------------------------------------------------------
# Files and schema


def test_the_package_ships_the_schemas_it_is_asked_for() -> None:
    """kubernetes-validate reads its schemas from the wheel: no network, no download."""
    for version in VERSIONS:
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
            version,
            strict=True,
        )


def test_the_schema_check_catches_a_misspelt_field() -> None:
    """Strict validation: a typo in a security setting is an error, not a silent no-op."""
    deployment = load_yaml(KUBE / "base" / "deployment.yaml")[0]
    server_container(deployment)["securityContext"]["procMont"] = "Unmasked"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


@pytest.mark.parametrize(
    "folder", all_kustomization_folders(), ids=lambda p: str(p.relative_to(KUBE))
)
def test_every_file_a_kustomization_names_exists(folder: Path) -> None:
    k = kustomization(folder)
    assert k.get("apiVersion", "").startswith("kustomize.config.k8s.io/")
    assert k.get("kind") in ("Kustomization", "Component")
    for role, paths in listed_paths(folder).items():
        for path in paths:
            if role in ("resources", "components") and path.is_dir():
                assert (path / "kustomization.yaml").is_file(), f"{path}: no kustomization.yaml"
            else:
                assert path.is_file(), f"{folder.name}/kustomization.yaml names {path}: missing"
            assert path.resolve().is_relative_to(KUBE), f"{path}: outside deploy/kubernetes"


def test_every_yaml_file_has_a_role() -> None:
    """No manifest lies about unused: each is a kustomization, a resource, a patch, or the
    example Secret."""
    known = set(resource_files()) | set(patch_files()) | {EXAMPLE_SECRET.resolve()}
    known |= {(f / "kustomization.yaml").resolve() for f in all_kustomization_folders()}
    stray = sorted(
        str(p.relative_to(KUBE)) for p in KUBE.rglob("*.yaml") if p.resolve() not in known
    )
    assert not stray, f"YAML files no kustomization uses: {stray}"


@pytest.mark.parametrize(
    "path",
    [*resource_files(), EXAMPLE_SECRET],
    ids=lambda p: str(Path(p).relative_to(KUBE)),
)
def test_each_manifest_is_valid_kubernetes(path: Path) -> None:
    docs = load_yaml(path)
    assert docs, f"{path}: empty"
    for doc in docs:
        validate(doc, str(path.relative_to(ROOT)))


@pytest.mark.parametrize("folder", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_rendered_kustomization_is_valid_kubernetes(folder: Path) -> None:
    docs = render(folder)
    assert docs
    for doc in docs:
        validate(doc, f"kubectl kustomize {folder.relative_to(ROOT)}")


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda p: p.name)
def test_each_component_renders_valid_kubernetes(component: Path, tmp_path: Path) -> None:
    docs = render_with_component(component, tmp_path)
    for doc in docs:
        validate(doc, f"the server with {component.name}")


def test_the_readmes_own_kustomization_renders_with_its_host(tmp_path: Path) -> None:
    """README.md's "Your own kustomization", with this checkout in place of the Git URL: it
    renders, validates, and moves the host and the trusted origin together."""
    text = KUBE_README.read_text(encoding="utf-8")
    section = text.split("## Your own kustomization", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    local = re.sub(
        r"<this repository's Git URL>//(\S+)\?ref=<tag>",
        lambda m: os.path.relpath(ROOT / m.group(1), tmp_path),
        block,
    )
    assert local != block, "the example names no Git URL to replace"
    (tmp_path / "kustomization.yaml").write_text(local, encoding="utf-8")
    docs = render(tmp_path)
    for doc in docs:
        validate(doc, "README.md's own kustomization")
    host = one(docs, "Ingress")["spec"]["rules"][0]["host"]
    assert host != "descent.example.org"
    origins = env_values(server_container(one(docs, "Deployment")))["DESCENT_TRUSTED_ORIGINS"]
    assert origins == f"https://{host}"


def test_each_patch_targets_an_object_of_the_base() -> None:
    base = {(d["kind"], d["metadata"]["name"]) for p in resource_files() for d in load_yaml(p)}
    for path in patch_files():
        for doc in load_yaml(path):
            target = (doc["kind"], doc["metadata"]["name"])
            assert target in base, f"{path.relative_to(KUBE)} patches {target}: no such object"


def test_the_example_secret_is_not_applied_with_the_server() -> None:
    """Secrets stay out of the repository: the example is never a resource."""
    for folder in all_kustomization_folders():
        assert EXAMPLE_SECRET.resolve() not in {
            p.resolve() for p in listed_paths(folder)["resources"]
        }
        assert not kustomization(folder).get("secretGenerator"), f"{folder}: a secretGenerator"


# ------------------------------------------------------------------------------------------
# Settings


def test_every_setting_the_manifests_pass_exists() -> None:
    """Each DESCENT_* variable a manifest or patch sets is a setting of the server and a row of
    the README's settings table."""
    documented = documented_settings()
    real = {f"DESCENT_{name.upper()}" for name in Settings.model_fields}
    seen = set()
    for path in [*resource_files(), *patch_files()]:
        for doc in load_yaml(path):
            for container in containers_in(doc):
                for env in container.get("env", []):
                    if env["name"].startswith("DESCENT_"):
                        seen.add(env["name"])
                        assert env["name"] in real, f"{path.name}: {env['name']} is no setting"
                        assert env["name"] in documented, f"README lacks {env['name']}"
    assert {"DESCENT_DATABASE_URL", "DESCENT_SECRET_KEY", "DESCENT_TEACHER_PASSWORD"} <= seen


VARIANTS = (".", "overlays/gpu")


@functools.cache
def server_deployment(variant: str) -> dict[str, Any]:
    """The server's Deployment as a kustomization renders it, or, without kubectl, the base
    file with the GPU overlay's patch laid over its variables and resources."""
    if KUBECTL is not None:
        return one(render(KUBE / variant), "Deployment")
    deployment = load_yaml(KUBE / "base" / "deployment.yaml")[0]
    if variant == "overlays/gpu":
        patch = load_yaml(KUBE / "overlays" / "gpu" / "deployment-gpu.yaml")[0]
        container, patched = server_container(deployment), server_container(patch)
        merged = {e["name"]: e for e in container["env"]} | {e["name"]: e for e in patched["env"]}
        container["env"] = list(merged.values())
        container["resources"] = patched["resources"]
    return deployment


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_server_accepts_the_values_the_manifests_pass(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("DESCENT_"):
            monkeypatch.delenv(key)
    values = env_values(server_container(server_deployment(variant)))
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()  # raises, naming the setting, on a value the server refuses
    assert settings.sandbox == "strict"
    assert str(settings.data_dir) == "/data"


@pytest.mark.parametrize("variant", VARIANTS)
def test_secrets_come_from_the_secret_the_example_describes(variant: str) -> None:
    example = load_yaml(EXAMPLE_SECRET)[0]
    keys = set(example["stringData"])
    for env in server_container(server_deployment(variant))["env"]:
        if env["name"] in (
            "DESCENT_DATABASE_URL",
            "DESCENT_SECRET_KEY",
            "DESCENT_TEACHER_PASSWORD",
        ):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            assert ref, f"{env['name']} must come from a Secret, not a literal"
            assert ref["name"] == example["metadata"]["name"]
            assert ref["key"] in keys, f"{env['name']}: key {ref['key']} not in the example"


# ------------------------------------------------------------------------------------------
# Probes, ports, balancer


@pytest.mark.parametrize("variant", VARIANTS)
def test_probes_ask_healthz_on_the_port_the_server_listens_on(variant: str) -> None:
    deployment = server_deployment(variant)
    container = server_container(deployment)
    port = int(env_values(container).get("DESCENT_PORT", Settings.model_fields["port"].default))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == port, "containerPort differs from DESCENT_PORT"
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == HEALTHZ, f"{probe} asks {get['path']}"
        assert ports.get(get["port"], get["port"]) == port, f"{probe} asks another port"
    # The startup probe is the image's own check, which reads /healthz on DESCENT_PORT.
    assert container["startupProbe"]["exec"]["command"] == ["descent-healthcheck"]
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "/usr/local/bin/descent-healthcheck" in dockerfile and HEALTHZ in dockerfile
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == port


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_stop_drains_within_the_grace_period(variant: str) -> None:
    spec = server_deployment(variant)["spec"]["template"]["spec"]
    pause = server_container(server_deployment(variant))["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    assert int(pause[1]) + 15 <= spec["terminationGracePeriodSeconds"]


def test_service_pdb_and_hpa_find_the_pods() -> None:
    docs = [d for p in resource_files() if p.is_relative_to(KUBE / "base") for d in load_yaml(p)]
    deployment = one(docs, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = one(docs, "Service")
    assert service["spec"]["selector"].items() <= labels.items()
    port_names = {p["name"] for p in server_container(deployment)["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    assert (
        one(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items()
        <= labels.items()
    )
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    assert hpa["spec"]["minReplicas"] >= 2


def test_ingress_keeps_a_learner_on_one_replica() -> None:
    docs = [d for p in resource_files() for d in load_yaml(p)]
    ingress, service = one(docs, "Ingress"), one(docs, "Service")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 3600
    service_ports = {p["name"] for p in service["spec"]["ports"]}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"]["name"] in service_ports
    # Pages are served over HTTPS by the Ingress; the server must take their Origin as its own.
    origins = env_values(server_container(one(docs, "Deployment")))["DESCENT_TRUSTED_ORIGINS"]
    for rule in ingress["spec"]["rules"]:
        assert f"https://{rule['host']}" in origins.split(","), "host not in trusted origins"


def test_the_traefik_component_keeps_a_learner_on_one_replica(tmp_path: Path) -> None:
    docs = render_with_component(KUBE / "components" / "traefik", tmp_path)
    notes = one(docs, "Service")["metadata"]["annotations"]
    assert notes["traefik.ingress.kubernetes.io/service.sticky.cookie"] == "true"
    assert notes["traefik.ingress.kubernetes.io/service.sticky.cookie.name"]
    assert one(docs, "Ingress")["spec"]["ingressClassName"] == "traefik"


# ------------------------------------------------------------------------------------------
# The sandbox's pod settings and the seccomp profile


@pytest.mark.parametrize("variant", VARIANTS)
def test_pod_settings_the_sandbox_needs(variant: str) -> None:
    spec = server_deployment(variant)["spec"]["template"]["spec"]
    container = server_container(server_deployment(variant))
    pod, box = spec["securityContext"], container["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
    assert box["allowPrivilegeEscalation"] is False
    assert box["capabilities"]["drop"] == ["ALL"] and "add" not in box["capabilities"]
    assert "privileged" not in box
    # An unmasked /proc is only allowed in a pod with its own user namespace.
    assert box["procMount"] == "Unmasked" and spec["hostUsers"] is False
    profile = box.get("seccompProfile") or pod["seccompProfile"]
    assert profile == {"type": "Localhost", "localhostProfile": NODE_PROFILE.name}


def test_the_node_setup_installs_the_profile_the_pods_name() -> None:
    roles = listed_paths(NODE_SETUP)
    assert NODE_PROFILE in roles["files"], "the ConfigMap is not made from descent-userns.json"
    daemonset = one([d for p in roles["resources"] for d in load_yaml(p)], "DaemonSet")
    spec = daemonset["spec"]["template"]["spec"]
    host = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    (container,) = spec["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert list(host.values()) == [SECCOMP_ROOT]
    (volume,) = host
    script = "\n".join(container["command"] + container["args"])
    assert f"{mounts[volume]}/{NODE_PROFILE.name}" in script
    assert {"operator": "Exists"} in spec["tolerations"], "GPU and other tainted nodes need it too"


def test_the_node_profile_is_made_from_the_docker_profile() -> None:
    """descent-userns.json is deploy/seccomp-userns.json resolved for the pod (make_profile.py):
    regenerating it changes nothing, and Descent's own rules are there word for word."""
    proc = subprocess.run(
        [sys.executable, str(NODE_SETUP / "make_profile.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    docker = json.loads(DOCKER_PROFILE.read_text(encoding="utf-8"))
    node = json.loads(NODE_PROFILE.read_text(encoding="utf-8"))
    ours = [r for r in docker["syscalls"] if r.get("comment", "").startswith("Descent")]
    assert len(ours) == 2
    for rule in ours:
        assert rule in node["syscalls"]
    assert node["defaultAction"] == docker["defaultAction"] == "SCMP_ACT_ERRNO"
    for rule in node["syscalls"]:
        assert set(rule) <= {"names", "action", "errnoRet", "args", "comment"}, rule["names"]


# What a child process does with a profile: load it into libseccomp the way runc loads an OCI
# profile (names resolved for this machine's architecture, unknown names skipped, arguments as
# conditions), then either exec bubblewrap or try calls the profile must refuse.
LOADER = r"""
import ctypes, errno, json, os, sys
import pyseccomp as s
OPS = {"SCMP_CMP_NE": s.NE, "SCMP_CMP_LT": s.LT, "SCMP_CMP_LE": s.LE, "SCMP_CMP_EQ": s.EQ,
       "SCMP_CMP_GE": s.GE, "SCMP_CMP_GT": s.GT, "SCMP_CMP_MASKED_EQ": s.MASKED_EQ}
def action(rule):
    if rule["action"] == "SCMP_ACT_ALLOW":
        return s.ALLOW
    assert rule["action"] == "SCMP_ACT_ERRNO", rule["action"]
    return s.ERRNO(rule.get("errnoRet", 1))
profile = json.load(open(sys.argv[1]))
skip_ours = sys.argv[2] == "without-descent-rules"
f = s.SyscallFilter(s.ERRNO(profile.get("defaultErrnoRet", 1)))
for rule in profile["syscalls"]:
    if skip_ours and rule.get("comment", "").startswith("Descent"):
        continue
    args = [s.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0))
            for a in rule.get("args", [])]
    for name in rule["names"]:
        number = s.resolve_syscall(s.Arch.NATIVE, name)
        if number != -1:
            f.add_rule(action(rule), number, *args)
f.load()
if sys.argv[3] == "refused":
    libc = ctypes.CDLL(None, use_errno=True)
    calls = {"setns": (-1, 0), "bpf": (-1, 0, 0), "chroot": (b"/nonexistent",), "clone3": (0, 0)}
    said = {}
    for name, args in calls.items():
        libc.syscall(s.resolve_syscall(s.Arch.NATIVE, name), *args)
        said[name] = errno.errorcode.get(ctypes.get_errno(), "?")
    print(json.dumps(said))
else:
    os.execvp(sys.argv[3], sys.argv[3:])
"""
#: The server's own probe of the sandbox (app/supervisor/sandbox.py): every namespace, a /proc.
BWRAP_PROBE = [
    "--unshare-all", "--unshare-user", "--hostname", "descent", "--die-with-parent",
    "--new-session", "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc",
    "--dev", "/dev", "true",
]  # fmt: skip


def under_profile(mode: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LOADER, str(NODE_PROFILE), mode, *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def bwrap() -> str:
    found = shutil.which("bwrap")
    if found is None:
        pytest.skip("bubblewrap is not installed")
    bare = subprocess.run(
        [found, *BWRAP_PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    if bare.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"bubblewrap cannot build a sandbox on this machine: {bare.stderr}")
        pytest.skip(f"bubblewrap cannot build a sandbox on this machine: {bare.stderr.strip()}")
    return found


def test_under_the_node_profile_bubblewrap_builds_the_sandbox(bwrap: str) -> None:
    proc = under_profile("all-rules", bwrap, *BWRAP_PROBE)
    assert proc.returncode == 0, f"bubblewrap failed under descent-userns.json: {proc.stderr}"
    # ...and not for lack of a filter: without Descent's two rules it fails as in Docker.
    proc = under_profile("without-descent-rules", bwrap, *BWRAP_PROBE)
    assert proc.returncode != 0, "bubblewrap ran without the rules that allow namespaces"
    assert "namespace" in proc.stderr


def test_the_node_profile_refuses_what_docker_refuses_without_capabilities(bwrap: str) -> None:
    proc = under_profile("all-rules", "refused")
    assert proc.returncode == 0, proc.stderr
    said = json.loads(proc.stdout)
    assert said == {"setns": "EPERM", "bpf": "EPERM", "chroot": "EPERM", "clone3": "ENOSYS"}


# ------------------------------------------------------------------------------------------
# Sizing and the GPU overlay


@pytest.mark.parametrize("variant", VARIANTS)
def test_memory_covers_a_replica_full_of_kernels(variant: str) -> None:
    """deploy/kubernetes/README.md, "Sizing": the request holds the web process, the zygote, a
    full replica of idle kernels and one kernel at its whole budget; the limit holds five."""
    container = server_container(server_deployment(variant))
    env = env_values(container)
    fields = Settings.model_fields
    kernels = int(env.get("DESCENT_MAX_KERNELS", fields["max_kernels"].default))
    budget = int(env.get("DESCENT_KERNEL_MEMORY_MB", fields["kernel_memory_mb"].default))
    tmp = int(env.get("DESCENT_TMP_MB", fields["tmp_mb"].default))
    floor = WEB_MIB + ZYGOTE_MIB + kernels * IDLE_KERNEL_MIB
    resources = container["resources"]
    request = mebibytes(resources["requests"]["memory"])
    limit = mebibytes(resources["limits"]["memory"])
    assert request >= floor + FULL_KERNELS_IN_REQUEST * (budget + tmp), request
    assert limit >= floor + FULL_KERNELS_IN_LIMIT * (budget + tmp), limit
    # Kernels computing at once: the CPU limit, not the node's core count.
    assert int(env["DESCENT_BUSY_SLOTS"]) == int(resources["limits"]["cpu"])


def test_gpu_overlay_asks_for_a_gpu_on_the_gpu_pool() -> None:
    deployment = server_deployment("overlays/gpu")
    spec = deployment["spec"]["template"]["spec"]
    container = server_container(deployment)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert env_values(container)["DESCENT_DEVICE"] == "auto"
    if KUBECTL is not None:
        assert spec["nodeSelector"]
        assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
        assert container["image"] != server_container(server_deployment("."))["image"]
    base = server_deployment(".")
    assert env_values(server_container(base))["DESCENT_DEVICE"] == "cpu"
