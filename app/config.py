"""Every setting of the server, read from `DESCENT_*` environment variables.

Each field's description is the one the README's settings table shows; a test keeps the two equal.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
#: Several folders in one setting: separated by commas or by the system's path separator.
FOLDER_SEPARATORS = re.compile(f"[,{re.escape(os.pathsep)}]")


class Settings(BaseSettings):
    """Server settings; defaults serve one machine."""

    model_config = SettingsConfigDict(env_prefix="DESCENT_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port the server listens on.")
    lessons_dir: Annotated[tuple[Path, ...], NoDecode] = Field(
        (ROOT / "lessons",),
        min_length=1,
        description=(
            "Folders of lessons, one folder per lesson inside; several separated by commas, "
            "e.g. `./lessons,/srv/my-lessons` (docs/lessons.md)."
        ),
    )
    reload: bool = Field(
        False,
        description=(
            "Reload a lesson when its files change, on the next page load (while writing lessons)."
        ),
    )
    data_dir: Path = Field(ROOT / "data", description="Folder for the database and saved work.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where learner code computes: `auto` (GPU when present), `cpu`, `cuda`."
    )
    sandbox: Literal["strict", "weak"] = Field(
        "strict",
        description=(
            "`strict` refuses learner code when a sandbox layer is missing; `weak` runs it anyway "
            "(trusted single-user installs only)."
        ),
    )
    max_kernels: int = Field(64, ge=1, description="Most session kernels alive at once.")
    kernel_idle_s: float = Field(
        600.0, gt=0, description="Seconds a kernel may sit unused before it is stopped."
    )
    kernel_memory_mb: int = Field(
        512, ge=64, description="Memory each kernel may use beyond its start, in MB."
    )
    cell_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a Run of a cell may take before it is stopped."
    )
    call_timeout_s: float = Field(
        5.0, gt=0, description="Seconds one slider, plot or check request may take."
    )
    kernel_cpu_s: int = Field(
        600, ge=1, description="CPU seconds a kernel may use over its whole life."
    )
    output_limit_kb: int = Field(
        64, ge=1, description="Printed output kept per Run, in KB; the rest is cut with a note."
    )
    tmp_mb: int = Field(16, ge=1, description="Size of each kernel's private /tmp, in MB.")
    busy_slots: int = Field(
        0, ge=0, description="Kernels computing at once; 0 means the number of CPU cores."
    )
    max_message_kb: int = Field(
        256, ge=1, description="Largest WebSocket message a page may send, in KB."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the server."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as plain `text`, or `json` (one JSON object per line)."
    )
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy URL of the database, e.g. `postgresql://user:pass@host/descent`; empty "
            "means SQLite in the data folder."
        ),
    )
    secret_key: str = Field(
        "",
        description=(
            "Key that signs cookies; empty means one generated once and kept in the data folder "
            "(with PostgreSQL it must be set, the same on every replica)."
        ),
    )
    teacher_password: str = Field(
        "",
        description=(
            "The teacher's password; empty means it is set on the first-run page `/teacher/setup`."
        ),
    )
    teacher_session_h: float = Field(12.0, gt=0, description="Hours a teacher stays signed in.")
    cookie_secure: bool = Field(
        False, description="Mark cookies `Secure` (set it when the server is reached over HTTPS)."
    )
    trusted_origins: str = Field(
        "",
        description=(
            "Extra origins, comma separated, whose pages may open WebSockets (e.g. behind a "
            "proxy that rewrites the Host header)."
        ),
    )
    run_rate_per_min: int = Field(
        60, ge=1, description="Runs a learner may start per minute, on average."
    )
    run_burst: int = Field(10, ge=1, description="Runs a learner may start in a quick burst.")
    room_max_kernels: int = Field(
        60, ge=1, description="Most kernels the learners of one room may have running at once."
    )
    landscape_interval_ms: int = Field(
        200, ge=20, description="Milliseconds between two updates of the teacher's class landscape."
    )
    saved_code_kb: int = Field(
        64, ge=1, description="Largest code a learner may save in one cell, in KB."
    )
    data_max_rows: int = Field(
        1000,
        ge=1,
        description=(
            "Most rows of a learner's own data (a CSV file or pasted rows). 1,000 keeps every "
            "plot quick: a 61 x 61 loss landscape over a plain-Python loss loop is 3.7 million "
            "steps, about a second, well inside `DESCENT_CALL_TIMEOUT_S`."
        ),
    )
    data_max_kb: int = Field(
        128,
        ge=1,
        description=(
            "Largest file of a learner's own data, in KB; the page refuses a larger file before "
            "sending it. After base64 (4/3) it still fits one `DESCENT_MAX_MESSAGE_KB` message."
        ),
    )
    share_max_kb: int = Field(
        256,
        ge=1,
        description=("Largest snapshot a Share link may hold (code, slider values, data), in KB."),
    )
    drain_s: float = Field(
        10.0,
        ge=0,
        description=(
            "On SIGTERM, most seconds a replica keeps answering (`/healthz` 503, saves served, "
            "new lesson sockets sent elsewhere) until the balancer stops sending it anything."
        ),
    )
    metrics_token: str = Field(
        "",
        description="When set, /metrics answers only requests that carry "
        "`Authorization: Bearer <token>`; empty means /metrics is open.",
    )

    @field_validator("lessons_dir", mode="before")
    @classmethod
    def _folders(cls, value: object) -> object:
        """One folder, or several in one string: "./lessons,/srv/my-lessons"."""
        if isinstance(value, str):
            return tuple(Path(p.strip()) for p in FOLDER_SEPARATORS.split(value) if p.strip())
        if isinstance(value, Path):
            return (value,)
        return value


def load_settings() -> Settings:
    """Read the settings from the environment."""
    return Settings()
