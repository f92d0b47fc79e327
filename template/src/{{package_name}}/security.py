"""Security headers for a JSON API, and the proxy headers the deployment says to trust."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from flask import Flask
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


def init_app(app: Flask) -> None:
    """Add the security headers to `app`'s answers; trust PROXY_COUNT proxies' headers."""
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
            headers.extend(header for header in HEADERS if header[0].lower() not in present)
            if secure and HSTS[0].lower() not in present:
                headers.append(HSTS)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
