"""The watchdogs' view of memory: a container's or pod's cgroup limit counts, not only the
host's free memory."""

from __future__ import annotations

from pathlib import Path

from app.supervisor.hostproc import available_bytes, cgroup_headroom


def test_a_cgroup_limit_bounds_the_available_memory(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text(f"{1024**3}\n")
    (tmp_path / "memory.current").write_text(f"{900 * 1024**2}\n")
    assert cgroup_headroom(str(tmp_path)) == 124 * 1024**2
    assert available_bytes(str(tmp_path)) == 124 * 1024**2


def test_no_limit_leaves_the_host_figure(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    assert cgroup_headroom(str(tmp_path)) == 1 << 62
    host = available_bytes(str(tmp_path))
    assert 0 < host < 1 << 62  # /proc/meminfo's MemAvailable
    assert available_bytes(str(tmp_path / "absent")) == host
