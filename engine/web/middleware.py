"""Two plain ASGI middlewares: request-body limits (413) and the security headers of every
response (a Content-Security-Policy allowing only this server's own origin).

Plain ASGI rather than ``BaseHTTPMiddleware``: they sit on every API call, and the plain form
adds no task or copy per request.
"""

from __future__ import annotations

import json

#: Only this server's own origin, for everything; no inline script, no eval, no inline style.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

# "same-origin", not "no-referrer": under "no-referrer" a browser sends `Origin: null` with the
# workbench's own form posts (the printable report), which RequestGuard could not tell from
# another site's; no page address reaches another site either way.
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY")]


class SecurityHeaders:
    """Adds the CSP and friends; a response that set its own CSP (the printable report, whose
    inline style is allowed by its hash) keeps it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [h for h in _HEADERS if h[0] not in names]
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, sending)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses a request body over its limit with 413 ``{"error": ...}`` — before reading it when
    ``Content-Length`` says so, else as soon as the streamed body passes the limit. Batch uploads
    have their own, larger limit."""

    def __init__(self, app, limit: int, upload_limit: int, upload_paths: tuple[str, ...] = ("/ui/batch",)):
        self.app, self.limit, self.upload_limit, self.upload_paths = app, limit, upload_limit, upload_paths

    def _limit_for(self, path: str) -> int:
        return self.upload_limit if path.startswith(self.upload_paths) else self.limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit_for(scope["path"])
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > limit:
                return await _too_large(send, limit)
        seen = 0
        started = False

        async def receiving():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        async def sending(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


def limit_text(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": f"the request body is larger than the limit of {limit_text(limit)} "
                                f"({limit:,} bytes)"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


#: Methods that change nothing: never refused for their origin.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestGuard:
    """What a browser on another site, or a name pointed at this machine, must not do.

    - **Host** (DNS rebinding): a request whose ``Host`` is not one of ``allowed_hosts`` (the
      names the server was started for; ``"*"`` allows any) is answered 400.
    - **Origin** (cross-site requests): a POST whose ``Origin`` — or, without one, ``Referer`` —
      is another site than the one in ``Host`` is answered 403. Scripts (curl, Python) send
      neither and are not affected.
    - **Content type**: a POST to ``/api/`` must say ``Content-Type: application/json`` (415
      otherwise), which no cross-site form can send without the browser asking first.
    """

    def __init__(self, app, allowed_hosts: tuple[str, ...]):
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.allowed_hosts = frozenset(h.lower().strip("[]") for h in allowed_hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode("latin-1")
        name = host_name(host)
        if not self.any_host and name not in self.allowed_hosts:
            return await _refuse(scope, send, 400, f"this server does not answer to the name '{_printable(name)}' "
                                                   f"(Host header); it answers to {', '.join(sorted(self.allowed_hosts))} "
                                                   "— start it with --allow-host NAME to add a name")
        if scope["method"] not in _SAFE_METHODS:
            origin = headers.get(b"origin") or headers.get(b"referer")
            if origin is not None and not same_site(origin.decode("latin-1"), host):
                return await _refuse(scope, send, 403, f"a request from another site ({_printable(origin.decode('latin-1'))}) "
                                                       "cannot change anything here; use the workbench's own pages")
            if scope["path"].startswith("/api/"):
                kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
                if kind != b"application/json":
                    shown = _printable(kind.decode("latin-1")) or "none"
                    return await _refuse(scope, send, 415, f"the body must be JSON sent with Content-Type: "
                                                           f"application/json (this request said {shown})")
        await self.app(scope, receive, send)


def host_name(host: str) -> str:
    """The name part of a ``Host`` header or a URL's authority: no port, no brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def same_site(origin: str, host: str) -> bool:
    """Whether ``origin`` (an ``Origin`` or ``Referer`` value) is this server as named in ``host``."""
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()


def _printable(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 80 else text[:80] + "…"


async def _refuse(scope, send, status: int, message: str) -> None:
    """The documented error body: JSON under /api/ (with the 400 fields), else a short page."""
    path = scope["path"]
    if path.startswith("/api/") or path in ("/healthz", "/openapi.json"):
        body = {"error": message}
        if status == 400:
            body.update(field=None, suggestion=None, allowed=None)
        data, kind = json.dumps(body).encode(), b"application/json"
    else:
        import html
        data = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{status}</title></head>'
                f'<body><h1>{status}</h1><p>{html.escape(message)}</p></body></html>').encode()
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
