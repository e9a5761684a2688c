"""`python -m app` starts the server with the `DESCENT_*` settings."""

from __future__ import annotations

import uvicorn

from app.classroom.logs import log_config
from app.config import load_settings
from app.web.app import create_app


def main() -> None:
    settings = load_settings()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Larger than the app's own limit, so the app refuses big messages itself (1009, logged).
        ws_max_size=settings.max_message_kb * 1024 * 4,
        timeout_graceful_shutdown=5,
        log_config=log_config(settings),
    )


if __name__ == "__main__":
    main()
