"""The session layer: one open lesson page on the server. Its kernel's life, Runs and Checks
(`session`), the last-write-wins slider queue (`sliders`), figures drawn and patched from the
kernel's numbers (`figures`), training plots played at the page's pace (`training`), and the
interfaces a listener such as the classroom implements (`hooks`)."""

from app.session.hooks import LiveSession, NoObserver, SessionObserver
from app.session.link import Send
from app.session.session import Session

__all__ = ["LiveSession", "NoObserver", "Send", "Session", "SessionObserver"]
