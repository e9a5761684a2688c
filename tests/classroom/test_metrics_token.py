"""/metrics can be limited to a token (DESCENT_METRICS_TOKEN): without it, or with a wrong one,
the answer is 401 with words; with it, the metrics."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.server import create_app
from classroom.conftest import classroom_settings
from classroom.kit import classroom_of


async def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    settings = classroom_settings(tmp_path / "data", "", metrics_token="s3cret-scrape")
    app = create_app(settings)
    await classroom_of(app).start()
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            bare = await http.get("/metrics")
            assert bare.status_code == 401 and "DESCENT_METRICS_TOKEN" in bare.text
            assert bare.headers["www-authenticate"] == "Bearer"
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer guess"})
            assert wrong.status_code == 401
            right = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
            assert right.status_code == 200 and "descent_sessions" in right.text
    finally:
        await classroom_of(app).stop()
