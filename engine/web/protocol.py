"""The HTTP connection of ``policykb serve``: uvicorn's httptools protocol with limits it lacks.

uvicorn puts no limit on the size of a request's head (a 120 MB header kept a worker's CPU busy
for 20 s while the parser joined its pieces) and no deadline on a client that sends it slowly
(twenty connections sending a byte now and then held the server's sockets for as long as they
liked). This protocol counts the bytes of each request head *before* they reach the parser and
gives every request a deadline:

- a head (request line and headers) over :data:`HEAD_LIMIT` is answered 431 and the connection
  closed;
- a head not complete :data:`HEAD_SECONDS` after its first byte (or after the connection opened)
  is answered 408 and closed;
- a body that stops arriving for :data:`BODY_IDLE_SECONDS` is answered 408 and closed.

The figures are in ``docs/web.md``. An idle keep-alive connection is closed by uvicorn itself
after ``timeout_keep_alive`` (5 s).
"""

from __future__ import annotations

import json
import os

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

#: The largest request head (request line and every header) accepted, in bytes.
HEAD_LIMIT = 64 * 1024
#: The time a client has to send a whole request head (``POLICYKB_SERVE_HEAD_SECONDS`` changes it).
HEAD_SECONDS = float(os.environ.get("POLICYKB_SERVE_HEAD_SECONDS") or 10)
#: The longest pause allowed while a request body is being sent (``POLICYKB_SERVE_BODY_IDLE_SECONDS``).
BODY_IDLE_SECONDS = float(os.environ.get("POLICYKB_SERVE_BODY_IDLE_SECONDS") or 30)

_END = b"\r\n\r\n"


class GuardedHttpProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a head-size limit and deadlines (see the module docstring)."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer = None
        self._start_head()

    def connection_lost(self, exc) -> None:
        self._cancel()
        super().connection_lost(exc)

    # ------------------------------------------------------------------ bytes in

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            seen = self._tail + data
            end = seen.find(_END)
            self._head_bytes += len(data) if end < 0 else max(0, end + len(_END) - len(self._tail))
            if self._head_bytes > HEAD_LIMIT:
                self._refuse(431, f"the request head is larger than the limit of {HEAD_LIMIT // 1024} KiB "
                                  f"({HEAD_LIMIT:,} bytes)")
                return
            self._tail = seen[-(len(_END) - 1):]
            if self._timer is None:
                self._arm(HEAD_SECONDS, "the request head was not sent in time")
        elif self._in_body:
            self._arm(BODY_IDLE_SECONDS, "the request body stopped arriving")
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel()
        super().on_headers_complete()
        if not self.transport.is_closing():
            self._in_body = True
            self._arm(BODY_IDLE_SECONDS, "the request body stopped arriving")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_body = False
        self._cancel()
        # What comes next on this connection is the head of the next request (uvicorn closes an
        # idle keep-alive connection itself; the head's deadline starts with its first byte).
        self._in_head, self._head_bytes, self._tail = True, 0, b""

    # ------------------------------------------------------------------ deadlines

    def _start_head(self) -> None:
        self._in_head, self._in_body, self._head_bytes, self._tail = True, False, 0, b""
        self._arm(HEAD_SECONDS, "the request head was not sent in time")

    def _arm(self, seconds: float, reason: str) -> None:
        self._cancel()
        self._timer = self.loop.call_later(seconds, self._expired, reason)

    def _cancel(self) -> None:
        if getattr(self, "_timer", None) is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, reason: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete and not self._in_body:
            return   # the server is answering; the client is not the one keeping it
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True   # the application sees the client gone
            self.cycle.message_event.set()
        self._refuse(408, reason)

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with the documented ``{"error"}`` body and close the connection."""
        self._cancel()
        body = json.dumps({"error": message}).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: application/json\r\n", b"content-length: ", str(len(body)).encode(), b"\r\n",
                 b"connection: close\r\n\r\n", body]
        self.transport.write(b"".join(head))
        self.transport.close()
