"""The phone simulator: call and text the service from a browser, with no phone and no Twilio account.

Development and test only: create_app registers it unless DISPATCH_ENV=production.
"""

from __future__ import annotations

from flask import Flask


def register_sim(app: Flask) -> None:
    from dispatch.sim import line_views  # noqa: F401  (its routes join the blueprint)
    from dispatch.sim.switchboard import install
    from dispatch.sim.views import bp

    install(app)
    app.register_blueprint(bp)
