"""A page's figures: ask the kernel for a plot's numbers, decode them, and send the page a
whole figure (when code or data changed) or a small patch (after a slider move)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from app.content.model import Plot
from app.plots.base import Options, PlotError, Result
from app.plots.registry import plot_kind
from app.protocol import (
    FigureMsg,
    KEvaluate,
    KEvaluated,
    KEvaluatedMany,
    KEvaluateMany,
    PatchMsg,
    PlotId,
    PlotProblem,
    Progress,
)
from app.session.link import KernelLink
from app.supervisor import KernelDied

log = logging.getLogger("descent.session")


def decode_result(reply: KEvaluated) -> Result:
    """Arrays and scalars from a kernel as numpy arrays and floats; each array passes the same
    check the supervisor applies to every reply (`Array.problem`)."""
    result: Result = {}
    for name, arr in reply.arrays.items():
        problem = arr.problem()
        if problem:
            raise PlotError(f"The kernel sent a malformed array: {name!r} {problem}.")
        result[name] = np.frombuffer(arr.data, dtype="<f8").reshape(arr.shape)
    for name, value in reply.scalars.items():
        result[name] = value
    for name, texts in reply.texts.items():
        result[name] = [str(t)[:80] for t in texts[:64]]
    return result


class Figures:
    """The plots of one page: their parsed options and which of them the page shows."""

    def __init__(self, link: KernelLink, values: Mapping[str, float]) -> None:
        self.link, self.values = link, values
        lesson = link.lesson
        self.options: dict[PlotId, Options] = {
            pid: plot_kind(p.kind).parse_options(p.options) for pid, p in lesson.plots.items()
        }
        #: Each plot's sliders, and the plots that draw coarsely while a slider moves.
        self.fed_by = {pid: frozenset(p.sliders) for pid, p in lesson.plots.items()}
        self.coarse_plots = {
            pid for pid, p in lesson.plots.items() if plot_kind(p.kind).draws_coarse(p.options)
        }
        #: Plots whose whole figure the page has from the current kernel.
        self.shown: set[PlotId] = set()
        #: The slider values (and whether coarse) each plot was last asked for.
        self.asked: dict[PlotId, tuple[tuple[float, ...], bool]] = {}
        link.on_lost.append(self.shown.clear)
        link.on_lost.append(self.asked.clear)

    async def draw_all(self, seq: int, whole: bool) -> None:
        self.coarse = False
        for plot in self.link.lesson.plots.values():
            if not self.link.kernel:
                return
            await self.draw(plot, seq, whole)

    async def draw_moved(self, moved: set[str], seq: int, coarse: bool = False) -> None:
        """Every plot fed by a slider that moved; several in one round trip to the kernel.
        While a slider moves (`coarse`) a heavy kind draws coarsely; at rest it is drawn in
        full, and a plot already drawn in full at these values is not drawn again."""
        self.coarse = coarse
        plots = [
            p
            for p in self.link.lesson.plots.values()
            if not moved.isdisjoint(self.fed_by[p.id]) and self.asked.get(p.id) != self._key(p)
        ]
        if len(plots) == 1:
            await self.draw(plots[0], seq, whole=plots[0].id not in self.shown)
        elif plots:
            await self._draw_many(plots, seq)

    coarse = False
    """Whether the moves being drawn were made while a slider was still moving."""

    def _key(self, plot: Plot) -> tuple[tuple[float, ...], bool]:
        coarse = self.coarse and plot.id in self.coarse_plots
        return tuple([self.values[name] for name in plot.sliders]), coarse

    def _request(self, plot: Plot, whole: bool) -> KEvaluate:
        values = {name: self.values[name] for name in plot.sliders}
        key = self._key(plot)
        self.asked[plot.id] = key
        options = {**plot.options, "coarse": True} if key[1] else plot.options
        return KEvaluate(self.link.next_id(), plot.id, plot.kind, options, values, whole)

    async def draw(self, plot: Plot, seq: int, whole: bool) -> None:
        if not self.link.kernel:
            return
        try:
            reply = await self.link.request(
                self._request(plot, whole),
                self.link.settings.call_timeout_s,
                on_progress=lambda p: self.link.send(Progress(plot.id, p.done, p.total, p.label)),
            )
        except KernelDied as err:
            await self.link.lost(err)
            return
        if isinstance(reply, KEvaluated):
            await self.show(plot, reply, seq, whole)

    async def _draw_many(self, plots: list[Plot], seq: int) -> None:
        if not self.link.kernel:
            return
        wholes = [p.id not in self.shown for p in plots]
        items = [self._request(p, whole) for p, whole in zip(plots, wholes, strict=True)]
        try:
            reply = await self.link.request(
                KEvaluateMany(self.link.next_id(), items), self.link.settings.call_timeout_s
            )
        except KernelDied as err:
            await self.link.lost(err)
            return
        if isinstance(reply, KEvaluatedMany):
            for plot, whole, result in zip(plots, wholes, reply.results, strict=True):
                await self.show(plot, result, seq, whole)

    async def show(self, plot: Plot, reply: KEvaluated, seq: int, whole: bool) -> None:
        """A plot's numbers to the page: a whole figure, a patch, or the problem in words."""
        if reply.error:
            self.shown.discard(plot.id)
            self.asked.pop(plot.id, None)
            await self.link.send(PlotProblem(plot.id, reply.error, seq))
            return
        kind, options = plot_kind(plot.kind), self.options[plot.id]
        try:
            result = decode_result(reply)
            readouts = kind.shown_readouts(options, reply.scalars)
            if whole:
                figure = kind.figure(options, result)
                await self.link.send(FigureMsg(plot.id, figure, seq, readouts))
                self.shown.add(plot.id)
            else:
                patch = kind.patch(options, result)
                await self.link.send(PatchMsg(plot.id, patch, seq, readouts))
        except (PlotError, KeyError, ValueError) as err:
            log.warning("plot %s got unusable numbers: %s", plot.id, err)
            await self.link.send(
                PlotProblem(plot.id, f"The plot could not use the numbers it got: {err}", seq)
            )
