"""Security headers, cookie sessions, and the proxy headers the deployment says to trust."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Sent on every response; a view may still set its own value for any of them.
HEADERS: Final = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # A JSON API loads nothing and is framed by nobody.
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
)
#: Sent only over TLS: a browser ignores it on plain HTTP, and it must not pin a dev server.
HSTS: Final = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
_HEADERS_BY_NAME: Final = tuple((name.lower(), (name, value)) for name, value in HEADERS)
_HSTS_NAME: Final = HSTS[0].lower()


def init_app(app: Flask) -> None:
    """Add the security headers to `app`'s answers; trust PROXY_COUNT proxies' headers."""
    app.session_interface = CookieSessions()
    wrapped: WSGIApplication = SecurityHeaders(app.wsgi_app)
    proxies: int = app.config["PROXY_COUNT"]
    if proxies:
        # Each proxy appends to X-Forwarded-*: trusting more than there are lets clients
        # forge their address and scheme, trusting fewer hides them.
        wrapped = ProxyFix(wrapped, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.wsgi_app = wrapped  # type: ignore[assignment, method-assign]


class SecurityHeaders:
    """Append each security header the app did not set to every answer.

    A WSGI middleware rather than an after_request hook: appending to the raw header
    list costs a microsecond, werkzeug's Headers.setdefault a dozen.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request through the app, adding the headers as it starts answering."""
        secure = environ.get("wsgi.url_scheme") == "https"

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            present = {name.lower() for name, _ in headers}
            for name, header in _HEADERS_BY_NAME:
                if name not in present:
                    headers.append(header)
            if secure and _HSTS_NAME not in present:
                headers.append(HSTS)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, free on requests that neither send nor use one.

    Flask's own interface builds an itsdangerous serializer and parses the Cookie header on
    every request, and reads seven cookie settings on every answer: about a tenth of a bare
    request's time, spent on a JSON API that rarely has a session at all.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Start an empty session when no cookie came; otherwise open it as Flask does."""
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Do nothing for a session nobody touched; otherwise save it as Flask does."""
        if session or session.accessed or session.modified:
            super().save_session(app, session, response)
