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
        ws_max_size=settings.max_message_kb * 1024,
        timeout_graceful_shutdown=5,
        log_config=log_config(settings),
    )


if __name__ == "__main__":
    main()
