"""The staff dashboard, served by `headstrt web` under /dashboard: sessions, credits, experts and triage of
the programmes the signed-in person is staff of, with charts, CSV export and a few staff actions.
`mount(app)` is the one call bot.web makes."""

from bot.dashboard.routes import mount

__all__ = ["mount"]
