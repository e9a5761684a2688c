"""Every message between browser, web process and kernel, each a typed, tagged struct.

Three wires share this module:

* the page's WebSocket carries JSON; `ClientMessage` is what a page may send and
  `ServerMessage` what it receives;
* the teacher's class landscape socket carries JSON; `TeacherMessage` is what it receives;
* a kernel's channel carries length-prefixed msgpack frames; `KernelRequest` is what the web
  process asks and `KernelReply` what a kernel may answer. The web process decodes replies
  strictly into these types and never trusts a value it did not check.

The ids every layer passes around are defined here once, as `NewType`s, so that a cell id cannot
be handed where a plot id belongs; the lesson model and the classroom use these same types.

docs/protocol.md describes the same messages for people.
"""

from __future__ import annotations

import math
from typing import Any, Literal, NewType

import msgspec

# --------------------------------------------------------------------------- ids

LessonSlug = NewType("LessonSlug", str)
"""A lesson's slug, the last part of its URL: `the-line`."""
CellId = NewType("CellId", str)
"""A code cell of a lesson, unique on its page."""
PlotId = NewType("PlotId", str)
"""A plot of a lesson, unique on its page."""
ExerciseId = NewType("ExerciseId", str)
"""An exercise of a lesson, unique on its page."""
LearnerId = NewType("LearnerId", str)
"""A browser's anonymous learner, from its signed cookie."""
RoomId = NewType("RoomId", int)
"""A teacher's room (a class)."""

# --------------------------------------------------------------------------- page -> server


class Open(msgspec.Struct, tag="open", forbid_unknown_fields=True):
    """First message of a page: the text of its code cells (the learner's edits, if any)."""

    cells: dict[CellId, str] = {}


class Slide(msgspec.Struct, tag="slide", forbid_unknown_fields=True):
    """Slider values changed; the newest values win, older pending ones are dropped."""

    values: dict[str, float]
    seq: int = 0


class Run(msgspec.Struct, tag="run", forbid_unknown_fields=True):
    """Run a code cell with the page's current text for it."""

    cell: CellId
    code: str
    seq: int = 0


class Check(msgspec.Struct, tag="check", forbid_unknown_fields=True):
    """Check an exercise against the learner's current code in the kernel."""

    exercise: ExerciseId
    seq: int = 0


class Train(msgspec.Struct, tag="train", forbid_unknown_fields=True):
    """Control a training plot: play, pause, one step, or reset; speed is iterations per frame."""

    plot: PlotId
    action: Literal["play", "pause", "step", "reset"]
    speed: int = 1


class Interrupt(msgspec.Struct, tag="interrupt", forbid_unknown_fields=True):
    """Stop whatever the kernel is running."""


class Restart(msgspec.Struct, tag="restart", forbid_unknown_fields=True):
    """Throw the kernel away and start a fresh one; the page's cells are run again."""


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    """Keep-alive and latency probe; answered with Pong carrying the same seq."""

    seq: int = 0


ClientMessage = Open | Slide | Run | Check | Train | Interrupt | Restart | Ping

# --------------------------------------------------------------------------- server -> page


class Ready(msgspec.Struct, tag="ready"):
    """The page's kernel is up; `device` says where learner code computes."""

    device: str
    sandbox: str


class FigureMsg(msgspec.Struct, tag="figure"):
    """A whole plotly figure, sent when the code or data behind a plot changed."""

    plot: PlotId
    figure: dict[str, Any]
    seq: int = 0
    readouts: dict[str, float] = {}


class PatchMsg(msgspec.Struct, tag="patch"):
    """A small restyle of an existing figure after a slider move."""

    plot: PlotId
    patch: dict[str, Any]
    seq: int = 0
    readouts: dict[str, float] = {}


class PlotProblem(msgspec.Struct, tag="plot_error"):
    """A plot cannot be drawn from the learner's code; the message says why."""

    plot: PlotId
    message: str
    seq: int = 0


class Output(msgspec.Struct, tag="output"):
    """The result of running a cell: printed text and, if it failed, a trimmed traceback."""

    cell: CellId
    ok: bool
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    error_line: int = 0
    truncated: bool = False
    seq: int = 0


class CheckResult(msgspec.Struct, tag="check_result"):
    """The verdict on an exercise."""

    exercise: ExerciseId
    passed: bool
    message: str
    seq: int = 0


class Progress(msgspec.Struct, tag="progress"):
    """Long work in a cell or a plot reports how far it got; the page shows a bar and the time
    left. `cell` is the id of the cell or the plot."""

    cell: str
    done: float
    total: float
    label: str = ""


class Status(msgspec.Struct, tag="status"):
    """The kernel's state as the learner should see it."""

    state: Literal["starting", "idle", "busy", "waiting", "dead", "full", "refused"]
    message: str = ""


class TrainState(msgspec.Struct, tag="train_state"):
    """Whether a training plot is playing, so the page can show Play or Pause."""

    plot: PlotId
    playing: bool


class ErrorMsg(msgspec.Struct, tag="error"):
    """Something the page asked for was refused; nothing was lost."""

    message: str


class Pong(msgspec.Struct, tag="pong"):
    """The answer to a Ping, with its seq."""

    seq: int = 0


ServerMessage = (
    Ready
    | FigureMsg
    | PatchMsg
    | PlotProblem
    | Output
    | Progress
    | CheckResult
    | Status
    | TrainState
    | ErrorMsg
    | Pong
)

# --------------------------------------------------------------------------- server -> teacher


class Surface(msgspec.Struct):
    """The ground of a class landscape: the lesson's two parameters, their ranges, and the
    filled contour of the lesson's own loss (None when the lesson draws no landscape, with a
    `note` when it could not be computed)."""

    lesson: LessonSlug
    title: str
    names: tuple[str, str]
    w: tuple[float, float]
    b: tuple[float, float]
    contour: dict[str, Any] | None = None
    note: str = ""


class LandscapeSurface(msgspec.Struct, tag="surface"):
    """Sent once when the teacher's landscape opens: what the points are drawn on (None when
    the lesson has no two parameters to show)."""

    surface: Surface | None


class LandscapePoints(msgspec.Struct, tag="points"):
    """Every learner's newest (w, b) in the lesson shown, all at once, at most once per
    `DESCENT_LANDSCAPE_INTERVAL_MS`; `seq` grows with every message."""

    seq: int
    lesson: LessonSlug
    points: list[tuple[LearnerId, float, float]]


TeacherMessage = LandscapeSurface | LandscapePoints

# --------------------------------------------------------------------------- server -> kernel


#: Arrays in a kernel's reply have at most this many dimensions and values.
MAX_ARRAY_DIMS = 4
MAX_ARRAY_VALUES = 1_000_000


class Array(msgspec.Struct, array_like=True):
    """A float64 array: its shape and its little-endian bytes."""

    shape: list[int]
    data: bytes

    def problem(self) -> str:
        """Why these bytes cannot be this array, or "" when they can. The one check of a
        kernel's arrays: the supervisor applies it to every reply, the session before decoding."""
        dims = self.shape
        if len(dims) > MAX_ARRAY_DIMS or any(d < 0 for d in dims):
            return f"has shape {dims}"
        count = math.prod(dims)
        if count > MAX_ARRAY_VALUES:
            return f"of shape {dims} has more than {MAX_ARRAY_VALUES} values"
        if count * 8 != len(self.data):
            return f"of shape {dims} carries {len(self.data)} bytes"
        return ""


class KExec(msgspec.Struct, tag="exec", array_like=True):
    """Run a cell's code in the learner's namespace, keeping at most `output_limit` characters."""

    id: int
    cell: CellId
    code: str
    output_limit: int


class KEvaluate(msgspec.Struct, tag="eval", array_like=True):
    """Evaluate a plot; `whole` asks for everything, otherwise only what a slider move changes."""

    id: int
    plot: PlotId
    kind: str
    options: dict[str, Any]
    values: dict[str, float]
    whole: bool = True


class KEvaluateMany(msgspec.Struct, tag="eval_many", array_like=True):
    """Several plots fed by the same slider move, in one round trip."""

    id: int
    items: list[KEvaluate]


class KCheck(msgspec.Struct, tag="check", array_like=True):
    """Check an exercise. `bundle` is the lesson's folder as the server sees it: a check that is
    not one of the toolkit's is looked up in that folder's checks.py, inside the kernel."""

    id: int
    exercise: str
    check: str
    params: dict[str, Any]
    bundle: str = ""


class KTrain(msgspec.Struct, tag="train", array_like=True):
    """Reset a training plot's parameters, or run more iterations of the learner's update."""

    id: int
    plot: PlotId
    kind: str
    options: dict[str, Any]
    iterations: int
    reset: bool


KernelRequest = KExec | KEvaluate | KEvaluateMany | KCheck | KTrain

# --------------------------------------------------------------------------- kernel -> server


class KHello(msgspec.Struct, tag="hello", array_like=True, forbid_unknown_fields=True):
    """First frame of every kernel: it is confined and ready."""

    device: str


class KExecDone(msgspec.Struct, tag="exec_done", array_like=True, forbid_unknown_fields=True):
    id: int
    ok: bool
    stdout: str
    stderr: str
    error: str
    error_line: int
    truncated: bool
    interrupted: bool


class KEvaluated(msgspec.Struct, tag="evaluated", array_like=True, forbid_unknown_fields=True):
    """Numbers for a plot: arrays, scalars and short label lists (e.g. the names of curves)."""

    id: int
    arrays: dict[str, Array]
    scalars: dict[str, float]
    error: str
    texts: dict[str, list[str]] = {}


class KEvaluatedMany(
    msgspec.Struct, tag="evaluated_many", array_like=True, forbid_unknown_fields=True
):
    """One result per plot of a KEvaluateMany, in the same order."""

    id: int
    results: list[KEvaluated]


class KChecked(msgspec.Struct, tag="checked", array_like=True, forbid_unknown_fields=True):
    id: int
    passed: bool
    message: str


class KFailed(msgspec.Struct, tag="failed", array_like=True, forbid_unknown_fields=True):
    """The kernel could not confine itself and will not run learner code."""

    message: str


class KProgress(msgspec.Struct, tag="progress", array_like=True, forbid_unknown_fields=True):
    """Sent during a request when learner code calls `progress(done, total)`; not a reply."""

    id: int
    done: float
    total: float
    label: str


KernelReply = KHello | KExecDone | KEvaluated | KEvaluatedMany | KChecked | KFailed | KProgress


def _plain(value: Any) -> Any:
    """numpy scalars and arrays in figures become plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


client_decoder = msgspec.json.Decoder(ClientMessage)
server_encoder = msgspec.json.Encoder(enc_hook=_plain)
request_encoder = msgspec.msgpack.Encoder()
request_decoder = msgspec.msgpack.Decoder(KernelRequest)
reply_encoder = msgspec.msgpack.Encoder()
reply_decoder = msgspec.msgpack.Decoder(KernelReply)

# --------------------------------------------------------------------------- server <-> zygote


class Limits(msgspec.Struct, array_like=True):
    """What one kernel may use; the zygote applies them right after the fork."""

    memory_bytes: int
    cpu_seconds: int
    file_bytes: int
    open_files: int
    tmp_bytes: int
    tmp_inodes: int
    namespaces: bool
    seccomp: bool
    device: str
    #: A lesson's sandbox allowance (docs/sandbox.md, "Allowances"): worker processes the
    #: kernel may fork (RLIMIT_NPROC rises by this many), and sockets on its own loopback.
    processes: int = 0
    loopback: bool = False


class Allowance(msgspec.Struct, frozen=True):
    """What one lesson's kernels may do beyond every other kernel (front matter `sandbox:`)."""

    processes: int = 0
    loopback: bool = False

    def __bool__(self) -> bool:
        return self.processes > 0 or self.loopback


class ZSpawn(msgspec.Struct, tag="spawn", array_like=True):
    """Fork a kernel; its channel's socket travels with this frame as SCM_RIGHTS."""

    id: int
    limits: Limits


class ZSignal(msgspec.Struct, tag="signal", array_like=True):
    """Send a signal to one of the zygote's kernels (interrupt or kill)."""

    pid: int
    signal: int


ZygoteRequest = ZSpawn | ZSignal


class ZReady(msgspec.Struct, tag="ready", array_like=True):
    """The zygote has imported and warmed everything and is ready to fork."""

    pid: int


class ZSpawned(msgspec.Struct, tag="spawned", array_like=True):
    id: int
    pid: int
    error: str


class ZExited(msgspec.Struct, tag="exited", array_like=True):
    """A kernel ended: by exit code, or by the signal that killed it (then code is -signal)."""

    pid: int
    code: int


ZygoteEvent = ZReady | ZSpawned | ZExited

zygote_request_decoder = msgspec.msgpack.Decoder(ZygoteRequest)
zygote_event_decoder = msgspec.msgpack.Decoder(ZygoteEvent)
