"""Security headers for a JSON API, and the proxy headers the deployment says to trust."""

from __future__ import annotations

from typing import Final

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

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
    """Add the security headers to `app`'s responses; trust PROXY_COUNT proxies' headers."""
    proxies: int = app.config["PROXY_COUNT"]
    if proxies:
        # Each proxy appends to X-Forwarded-*: trusting more than there are lets clients
        # forge their address and scheme, trusting fewer hides them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set each security header the view did not set itself."""
    headers = response.headers
    for name, value in HEADERS:
        headers.setdefault(name, value)
    if request.is_secure:
        headers.setdefault(*HSTS)
    return response
