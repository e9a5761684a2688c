"""The loop inside a session kernel: run cells in the learner's namespace, evaluate plots at
slider values, check exercises. Everything the learner's code does is caught here and turned
into a reply; nothing it prints reaches the process's real stdout."""

from __future__ import annotations

import contextlib
import io
import linecache
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from app.kernel import confine
from app.kernel.bound_data import BoundData
from app.kernel.channel import ChannelClosed, FrameReader, send_frame
from app.kernel.confine import out_of_memory_words, process_limit_words
from app.kernel.refusals import forget, refusal_words
from app.plots.base import Options, PlotError, PlotKind, Result, progress_reporter, readouts
from app.plots.registry import PLOT_KINDS
from app.protocol import (
    Array,
    KCheck,
    KChecked,
    KData,
    KDataDone,
    KernelReply,
    KEvaluate,
    KEvaluated,
    KEvaluatedMany,
    KEvaluateMany,
    KExec,
    KExecDone,
    KHello,
    KProgress,
    KTrain,
    reply_encoder,
    request_decoder,
)

MAX_ERROR_CHARS = 4000
CELL_PREFIX = "<cell "


class CappedText(io.TextIOBase):
    """A stdout/stderr stand-in that keeps at most `limit` characters and notes when it cut."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        if len(s) > room:
            self.truncated = True
        return len(s)

    def getvalue(self) -> str:
        return "".join(self.parts)


def cell_filename(cell: str) -> str:
    return f"{CELL_PREFIX}{cell}>"


def learner_traceback(exc: BaseException) -> tuple[str, int]:
    """The traceback cut down to the learner's own cells, and the line of the last one."""
    te = traceback.TracebackException.from_exception(exc, limit=50)
    frames = [f for f in te.stack if f.filename.startswith(CELL_PREFIX)]
    lines = []
    line = 0
    for f in frames:
        cell = f.filename[len(CELL_PREFIX) : -1]
        lines.append(f'  cell "{cell}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {f.line.strip()}")
        line = f.lineno or 0
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(CELL_PREFIX):
        line = exc.lineno or 0
    head = "Traceback (most recent call last):\n" if lines else ""
    tail = "".join(te.format_exception_only()).strip()
    words = refusal_words(exc)
    if words:
        tail += "\n" + words
    text = head + "\n".join(lines) + ("\n" if lines else "") + tail
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 40] + f"\n… (cut: {len(text)} characters in all)"
    return text, line


def short_error(exc: BaseException) -> str:
    """One readable paragraph for a plot or check that failed inside learner code."""
    if isinstance(exc, PlotError):
        return str(exc)[:MAX_ERROR_CHARS]
    text, _ = learner_traceback(exc)
    return text


def to_array(value: Any) -> Array:
    arr = np.ascontiguousarray(value, dtype="<f8")
    return Array(shape=list(arr.shape), data=arr.tobytes())


class Runtime:
    """The learner's namespace and the handlers for each request."""

    def __init__(self, device: str, send: Callable[[KernelReply], None] = lambda _: None) -> None:
        self.device = device
        self.send = send
        self.current = 0
        self.last_progress = 0.0
        self.finished_sent = False
        self.parsed: dict[tuple[str, bytes], Options] = {}
        self.ns: dict[str, Any] = {
            "__name__": "__main__",
            "__builtins__": __builtins__,
            "DEVICE": device,  # where torch code should compute: "cuda" or "cpu"
            "progress": self.progress,
        }
        #: The learner's own data, bound again after every Run (app/kernel/bound_data.py).
        self.data = BoundData(device)
        self.handlers: dict[type[Any], Callable[[Any], KernelReply]] = {
            KExec: self.exec_cell,
            KEvaluate: self.evaluate,
            KEvaluateMany: self.evaluate_many,
            KCheck: self.check,
            KTrain: self.train,
            KData: lambda req: self.data.handle(self.ns, req),
        }

    def progress(self, done: float, total: float = 0.0, label: str = "") -> None:
        """Learner code reports long work: `progress(epoch + 1, epochs)`. At most ten a second."""
        now = time.monotonic()
        finished = bool(total) and done >= total
        # The first report of the end always goes out; every other one at most ten a second.
        if (now - self.last_progress < 0.1) and not (finished and not self.finished_sent):
            return
        self.finished_sent = finished
        self.last_progress = now
        self.send(KProgress(self.current, float(done), float(total), str(label)[:80]))

    def exec_cell(self, req: KExec) -> KernelReply:
        out, err = CappedText(req.output_limit), CappedText(req.output_limit)
        name = cell_filename(req.cell)
        linecache.cache[name] = (len(req.code), None, req.code.splitlines(True), name)
        ok, error, error_line, interrupted = True, "", 0, False
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        forget()
        try:
            exec(compile(req.code, name, "exec"), self.ns)
        except KeyboardInterrupt:
            ok, interrupted = False, True
            error = "Stopped: the run was interrupted."
        except SystemExit as exc:
            # exit() or sys.exit() ends the run; with no status or 0 that is a normal end.
            if exc.code not in (None, 0):
                ok, error = False, f"Your code called exit({exc.code!r}): the run stopped there."
        except BaseException as exc:
            ok = False
            # The memory or process limit, in words; "" for other errors.
            error = out_of_memory_words(exc) or process_limit_words(exc)
            if not error:
                error, error_line = learner_traceback(exc)
        finally:
            sys.stdout, sys.stderr = old
            self.data.rebind(self.ns)
        return KExecDone(
            req.id,
            ok,
            out.getvalue(),
            err.getvalue(),
            error,
            error_line,
            out.truncated or err.truncated,
            interrupted,
        )

    def evaluate(self, req: KEvaluate) -> KernelReply:
        def compute(kind: PlotKind, options: Options) -> Result:
            values = req.values
            if options.coarse and options.coarse_args and kind.coarse_arguments:
                values = {**values, **options.coarse_args}  # quick while the slider moves
            result = kind.evaluate(self.ns, options, values, req.whole)
            result.update(readouts(self.ns, options, req.values))
            return result

        return self._plot_call(req.id, req.kind, req.options, compute)

    def evaluate_many(self, req: KEvaluateMany) -> KernelReply:
        results = []
        for item in req.items:
            reply = self.evaluate(msgspec.structs.replace(item, id=req.id))
            assert isinstance(reply, KEvaluated)
            results.append(reply)
        return KEvaluatedMany(req.id, results)

    def train(self, req: KTrain) -> KernelReply:
        def compute(kind: PlotKind, options: Options) -> Result:
            advance = getattr(kind, "advance", None)
            if advance is None:
                raise PlotError(f"A {kind.name} plot cannot be trained.")
            iterations = max(0, min(req.iterations, 100_000))
            return advance(self.ns, options, iterations, req.reset, req.start)  # type: ignore[no-any-return]

        return self._plot_call(req.id, req.kind, req.options, compute)

    def options(self, kind: PlotKind, raw: dict[str, Any]) -> Options:
        """Parsed plot options, cached: every slider move sends the same options again."""
        key = (kind.name, msgspec.json.encode(raw))
        parsed = self.parsed.get(key)
        if parsed is None:
            if len(self.parsed) > 256:
                self.parsed.clear()
            parsed = self.parsed[key] = kind.parse_options(raw)
        return parsed

    def _plot_call(
        self,
        rid: int,
        kind_name: str,
        raw: dict[str, Any],
        compute: Callable[[PlotKind, Options], Result],
    ) -> KernelReply:
        """Run a plot computation on learner code, its output swallowed, its errors worded."""
        kind = PLOT_KINDS.get(kind_name)
        if kind is None:
            return KEvaluated(rid, {}, {}, f"unknown plot kind {kind_name!r}")
        token = progress_reporter.set(self.progress)
        sink = CappedText(0)
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = sink, sink
        try:
            result = compute(kind, self.options(kind, raw))
        except KeyboardInterrupt:
            return KEvaluated(rid, {}, {}, "Stopped: the plot took too long and was interrupted.")
        except MemoryError:
            return KEvaluated(rid, {}, {}, "Your code ran out of memory while drawing this plot.")
        except BaseException as exc:
            return KEvaluated(rid, {}, {}, short_error(exc))
        finally:
            progress_reporter.reset(token)
            sys.stdout, sys.stderr = old
        arrays: dict[str, Array] = {}
        scalars: dict[str, float] = {}
        texts: dict[str, list[str]] = {}
        for k, v in result.items():
            if isinstance(v, np.ndarray):
                arrays[k] = to_array(v)
            elif isinstance(v, (int, float)):
                scalars[k] = float(v)
            elif isinstance(v, list) and all(isinstance(t, str) for t in v):
                texts[k] = [str(t)[:80] for t in v[:64]]
        return KEvaluated(rid, arrays, scalars, "", texts)

    def check(self, req: KCheck) -> KernelReply:
        from app.kernel.checks import ChecksError, find_check

        sink = CappedText(0)
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = sink, sink
        try:
            try:
                fn = find_check(req.check, req.bundle)
            except ChecksError as err:
                return KChecked(req.id, False, f"This exercise cannot be checked: {err}")
            if fn is None:
                return KChecked(req.id, False, f"unknown check {req.check!r}")
            passed, message = fn(self.ns, req.params)
        except KeyboardInterrupt:
            return KChecked(
                req.id, False, "Stopped: the check took too long. Is there an endless loop?"
            )
        except BaseException as exc:
            return KChecked(
                req.id, False, "Your code raised an error during the check:\n" + short_error(exc)
            )
        finally:
            sys.stdout, sys.stderr = old
        return KChecked(req.id, passed, message)


def serve(sock: socket.socket, device: str) -> None:
    """Answer requests until the channel closes; one request at a time, in order."""
    runtime = Runtime(device, lambda reply: send_frame(sock, reply_encoder.encode(reply)))
    if confine.worker_processes:
        signal.signal(signal.SIGCHLD, reap_workers)
    send_frame(sock, reply_encoder.encode(KHello(device)))
    frames = FrameReader(sock)
    while True:
        try:
            payload = frames.read()
        except ChannelClosed:
            return
        try:
            req = request_decoder.decode(payload)
        except msgspec.DecodeError:
            return
        runtime.current = req.id
        try:
            reply = runtime.handlers[type(req)](req)
        except KeyboardInterrupt:
            reply = interrupted(req)
        send_frame(sock, reply_encoder.encode(reply))


def reap_workers(signum: int = 0, frame: object = None) -> None:
    """SIGCHLD in a kernel with worker processes: no finished worker stays a zombie.
    multiprocessing's own children are reaped by multiprocessing first (so that their
    `exitcode` is kept), then any other child."""
    mp = sys.modules.get("multiprocessing")
    if mp is not None:
        with contextlib.suppress(Exception):
            mp.active_children()
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def interrupted(req: Any) -> KernelReply:
    """The reply to a request whose handler was interrupted outside learner code."""
    words = "Stopped: the request was interrupted."
    if isinstance(req, KExec):
        return KExecDone(req.id, False, "", "", words, 0, False, True)
    if isinstance(req, KCheck):
        return KChecked(req.id, False, words)
    if isinstance(req, KData):
        return KDataDone(req.id, False, words)
    if isinstance(req, KEvaluateMany):
        return KEvaluatedMany(req.id, [KEvaluated(req.id, {}, {}, words) for _ in req.items])
    return KEvaluated(req.id, {}, {}, words)
