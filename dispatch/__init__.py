"""dispatch: the call center and SMS dispatch service of a gig-labour market (零工市场)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from dispatch.runtime import Runtime, init_runtime
from dispatch.settings import Settings

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None, runtime: Runtime | None = None) -> Flask:
    """The web app. `config` overrides settings by their environment names."""
    settings = runtime.settings if runtime is not None else Settings.load(config)
    starting = runtime is None  # a process of its own (gunicorn, `dispatch serve`), not a test's app
    runtime = runtime or init_runtime(settings)
    if starting:
        from dispatch.demo import refuse_demo_data_in_production
        from dispatch.ops.probes import warn_if_redis_down

        refuse_demo_data_in_production(runtime.db, settings)
        warn_if_redis_down(runtime, "web")
    from dispatch.flask_app import DispatchFlask

    app = DispatchFlask(__name__)  # Flask, with URL builders and templates compiled once per process
    app.config.update(
        SECRET_KEY=settings.SECRET_KEY,
        MAX_CONTENT_LENGTH=256 * 1024,  # a Twilio webhook is a few kB; anything larger is refused with 413
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
    )
    app.extensions["dispatch.runtime"] = runtime
    # Imported here, not at the top: prometheus_client must first be imported after gunicorn's
    # config has set PROMETHEUS_MULTIPROC_DIR (see dispatch/metrics.py).
    from dispatch.metrics import observe_webhooks

    observe_webhooks(app)
    if settings.TRUSTED_PROXIES > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.TRUSTED_PROXIES)  # type: ignore[method-assign]

    from dispatch.ivr.views import bp as ivr_bp
    from dispatch.sms.views import bp as sms_bp
    from dispatch.voice.agent_views import bp as voice_agent_bp

    app.register_blueprint(sms_bp)
    app.register_blueprint(ivr_bp)
    app.register_blueprint(voice_agent_bp)  # /voice/agent: the softphone's TwiML App (issue 15)
    from dispatch.console import register_console

    register_console(app)
    from dispatch.ops.views import bp as ops_bp

    app.register_blueprint(ops_bp)  # /readyz and /metrics, for monitoring only
    from dispatch.hall.views import bp as hall_public_bp

    app.register_blueprint(hall_public_bp)  # /screen, /jobs, /j/<code>: public, no sign-in (issue 18)
    if settings.is_first_run:
        # The phone simulator signs webhooks with the app's own token: only where nothing is real
        # (outbox transport, no public URL), never in production.
        from dispatch.sim import register_sim

        register_sim(app)

    @app.get("/healthz")
    def healthz() -> Response | tuple[Response, int]:
        """Liveness: the database answers; Twilio is never called. (`/readyz` looks further.)"""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with runtime.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("health check: database unavailable: %s", exc)
            return jsonify(status="error", database="unavailable"), 503
        return jsonify(status="ok", transport=settings.SMS_TRANSPORT)

    @app.get("/ping")
    def ping() -> Response:
        """The web process answers, nothing else is touched: the baseline of scripts/bench_webhooks.py."""
        return Response("ok\n", mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> BaseResponse:
        # Plain text, but keep the error's own headers (e.g. Allow on a 405).
        response = error.get_response()
        response.set_data(f"{error.code} {error.name}: {error.description}\n")
        response.mimetype = "text/plain"
        return response

    return app
