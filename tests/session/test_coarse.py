"""Heavy plots degrade gracefully while a slider moves (issue 15 item 3): a `slide` marked
`coarse` (a key held, a drag) draws a heavy kind coarsely; the same values sent again at rest
draw it in full; a light plot already drawn at those values is not drawn twice."""

from __future__ import annotations

from collections.abc import Callable

from page_socket import (
    Connect,
    Message,
    array,
    line_xs,
    open_page,
    patch_with_seq,
    pong,
    receive_until,
    send,
)


async def test_a_slide_at_rest_after_coarse_moves_does_not_redraw_a_light_plot(
    connect: Connect,
) -> None:
    ws = await connect()
    await line_xs(ws)
    await send(ws, {"type": "slide", "values": {"w": 2.0}, "seq": 1, "coarse": True})
    await receive_until(ws, patch_with_seq(1))
    # At rest: the same value again, in full. The line is not a heavy kind: nothing to redraw.
    await send(ws, {"type": "slide", "values": {"w": 2.0}, "seq": 2})
    await send(ws, {"type": "ping", "seq": 99})
    messages = await receive_until(ws, pong(99))
    assert not [m for m in messages if m["type"] in ("patch", "figure", "error")]
    # A new value is drawn as always.
    await send(ws, {"type": "slide", "values": {"w": 2.5}, "seq": 3})
    await receive_until(ws, patch_with_seq(3))


def race_patch(seq: int) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "patch" and m["plot"] == "valley-race" and m["seq"] == seq


async def test_a_race_is_drawn_coarsely_while_its_slider_moves_and_in_full_at_rest(
    connect: Connect,
) -> None:
    ws = await connect("optimizers")
    messages = await open_page(ws)
    (race,) = [m for m in messages if m["type"] == "figure" and m["plot"] == "valley-race"]
    full = array(race["figure"]["data"][0]["z"]).shape
    await send(ws, {"type": "slide", "values": {"sgd_lr": 0.05}, "seq": 1, "coarse": True})
    coarse = (await receive_until(ws, race_patch(1)))[-1]
    small = array(coarse["patch"]["figure"]["data"][0]["z"]).shape
    assert small[0] * 2 < full[0] and small[1] * 2 < full[1], (small, full)
    await send(ws, {"type": "slide", "values": {"sgd_lr": 0.05}, "seq": 2})
    rest = (await receive_until(ws, race_patch(2)))[-1]
    assert array(rest["patch"]["figure"]["data"][0]["z"]).shape == full


def plot_patch(plot: str, seq: int) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "patch" and m["plot"] == plot and m["seq"] == seq


async def test_retraining_on_a_slider_trains_less_while_it_moves_and_all_at_rest(
    connect: Connect,
) -> None:
    # The seven steps: `coarse_args: {epochs: 500}` stands in for the 2000 epochs of the
    # lesson's own loss_curve while the learning-rate slider moves.
    ws = await connect("the-seven-steps")
    messages = await open_page(ws)
    (losses,) = [m for m in messages if m["type"] == "figure" and m["plot"] == "losses"]
    assert {len(array(t["y"])) for t in losses["figure"]["data"]} == {2000}
    await send(ws, {"type": "slide", "values": {"lr": 0.05}, "seq": 1, "coarse": True})
    coarse = (await receive_until(ws, plot_patch("losses", 1)))[-1]
    lengths = {len(array(t["y"])) for t in coarse["patch"]["figure"]["data"]}
    assert lengths == {500}, lengths
    await send(ws, {"type": "slide", "values": {"lr": 0.05}, "seq": 2})
    rest = (await receive_until(ws, plot_patch("losses", 2)))[-1]
    lengths = {len(array(t["y"])) for t in rest["patch"]["figure"]["data"]}
    assert lengths == {2000}, lengths
    assert rest["patch"]["figure"]["layout"]["xaxis"]["range"] == [0, 2000]  # the axis stays
