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

_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
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
