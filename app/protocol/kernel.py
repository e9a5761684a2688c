"""A kernel's channel: length-prefixed msgpack frames. `KernelRequest` is what the web process
asks and `KernelReply` what a kernel may answer; the web process decodes replies strictly into
these types and never trusts a value it did not check."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from app.protocol.ids import CellId, PlotId

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
    #: With `reset`: the new start (the learner dragged it); else the start stays where it was.
    start: list[float] | None = None


class KData(msgspec.Struct, tag="data", array_like=True):
    """A learner's own data: parse `raw` (the file's bytes) inside the kernel with the lesson's
    declaration and the limits, bind it in the namespace and keep it bound after every later
    Run. `reset` drops it instead (the web process then runs the cells again)."""

    id: int
    raw: bytes
    variables: list[str]
    shape: str
    columns: list[str]
    max_rows: int
    max_bytes: int
    reset: bool = False


KernelRequest = KExec | KEvaluate | KEvaluateMany | KCheck | KTrain | KData

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


class KDataDone(msgspec.Struct, tag="data_done", array_like=True, forbid_unknown_fields=True):
    """The answer to KData: `ok` with the rows, whether row 1 was a header, each column's
    [min, max] and the parsed numbers as a normalised CSV (what the server stores); or the
    parser's words naming the row and the problem."""

    id: int
    ok: bool
    message: str
    rows: int = 0
    header: bool = False
    ranges: dict[str, list[float]] = {}
    csv: str = ""


class KFailed(msgspec.Struct, tag="failed", array_like=True, forbid_unknown_fields=True):
    """The kernel could not confine itself and will not run learner code."""

    message: str


class KProgress(msgspec.Struct, tag="progress", array_like=True, forbid_unknown_fields=True):
    """Sent during a request when learner code calls `progress(done, total)`; not a reply."""

    id: int
    done: float
    total: float
    label: str


KernelReply = (
    KHello | KExecDone | KEvaluated | KEvaluatedMany | KChecked | KDataDone | KFailed | KProgress
)


request_encoder = msgspec.msgpack.Encoder()
request_decoder = msgspec.msgpack.Decoder(KernelRequest)
reply_encoder = msgspec.msgpack.Encoder()
reply_decoder = msgspec.msgpack.Decoder(KernelReply)
