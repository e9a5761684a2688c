"""The page's WebSocket: JSON both ways. `ClientMessage` is what a page may send, `ServerMessage`
what it receives."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from app.protocol.ids import CellId, ExerciseId, PlotId

# --------------------------------------------------------------------------- page -> server


class Open(msgspec.Struct, tag="open", forbid_unknown_fields=True):
    """First message of a page: the text of its code cells (the learner's edits, if any)."""

    cells: dict[CellId, str] = {}


class Slide(msgspec.Struct, tag="slide", forbid_unknown_fields=True):
    """Slider values changed; the newest values win, older pending ones are dropped. `coarse`:
    the slider is still moving (a key held, a drag), so heavy plots may draw a coarse result;
    the page sends the values again without it when the slider comes to rest."""

    values: dict[str, float]
    seq: int = 0
    coarse: bool = False


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
    """Control a training plot: play, pause, one step, or reset; speed is iterations per frame.
    `place` puts the start somewhere else (the learner dragged it to `at`, the trained values
    in the plot's order) and resets there: the newest place wins, older pending ones drop."""

    plot: PlotId
    action: Literal["play", "pause", "step", "reset", "place"]
    speed: int = 1
    at: list[float] | None = None


class Interrupt(msgspec.Struct, tag="interrupt", forbid_unknown_fields=True):
    """Stop whatever the kernel is running."""


class Restart(msgspec.Struct, tag="restart", forbid_unknown_fields=True):
    """Throw the kernel away and start a fresh one; the page's cells are run again."""


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    """Keep-alive and latency probe; answered with Pong carrying the same seq."""

    seq: int = 0


class DataLoad(msgspec.Struct, tag="data", forbid_unknown_fields=True):
    """The learner's own data for the lesson: the file's bytes as base64 (the kernel sees the
    real bytes, whatever their encoding), and the file's name for the words. `keep` false: only
    this page uses it (a share link's data), and what the learner keeps stays as it was."""

    content: str
    name: str = ""
    seq: int = 0
    keep: bool = True


class DataReset(msgspec.Struct, tag="data_reset", forbid_unknown_fields=True):
    """Back to the lesson's data: the learner's own is dropped (and forgotten). `forget` false:
    only this page shows the lesson's data (a shared link made with it); what the learner keeps
    stays kept for their next visit."""

    seq: int = 0
    forget: bool = True


ClientMessage = (
    Open | Slide | Run | Check | Train | Interrupt | Restart | Ping | DataLoad | DataReset
)

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


class DataState(msgspec.Struct, tag="data_state"):
    """Whose data the lesson uses now: `lesson` (its own), `yours` (the learner's file) or
    `room` (the teacher's); with its rows, each column's [min, max], and words (the parser's
    words when a file was refused: `ok` is then false and the data in use did not change)."""

    source: Literal["lesson", "yours", "room"]
    ok: bool = True
    rows: int = 0
    columns: dict[str, list[float]] = {}
    header: bool = False
    message: str = ""
    seq: int = 0


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
    | DataState
    | Pong
)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays in figures become plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


client_decoder = msgspec.json.Decoder(ClientMessage)
server_encoder = msgspec.json.Encoder(enc_hook=_plain)
