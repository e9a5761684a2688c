"""Malformed Origin headers: the check never raises, whatever the header holds, and a socket
that sends one is refused with 1008 and words (a port out of range, a port that is not a number,
a broken IPv6 address used to raise inside admission and close with 1006)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from live_server import LiveServer

from app.classroom.admission import same_origin
from classroom.live import LiveBrowser, close_code

BROKEN = ["http://localhost:99999", "http://localhost:port", "http://[::1", "http://[zz]:80"]


@given(
    origin=st.one_of(
        st.text(max_size=60),
        st.builds(
            lambda s, h: f"{s}://{h}", st.sampled_from(["http", "https", "ws", ""]), st.text()
        ),
        st.sampled_from(BROKEN),
    ),
    host=st.one_of(st.none(), st.text(max_size=40), st.just("localhost:8000")),
    scheme=st.sampled_from(["http", "https", "ws", "wss", ""]),
)
def test_the_origin_check_never_raises(origin: str, host: str | None, scheme: str) -> None:
    assert same_origin(origin, host, scheme, set()) in (True, False)


async def test_a_malformed_origin_is_refused_with_words(classroom_server: LiveServer) -> None:
    browser = LiveBrowser(classroom_server)
    browser.page("/lessons/the-line")
    for origin in BROKEN:
        ws = await browser.socket(origin=origin)
        code, reason = await close_code(ws)
        assert code == 1008 and reason, (origin, code, reason)
    browser.close()
    assert "Traceback" not in classroom_server.log()
