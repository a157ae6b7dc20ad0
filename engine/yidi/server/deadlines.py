"""Deadlines for slow clients, on top of uvicorn's h11 protocol.

uvicorn closes a connection that sits idle between requests
(`timeout_keep_alive`) and limits concurrent connections and tasks
(`limit_concurrency`, answered 503), but it has no deadline for a request
that is *arriving*: a client sending its headers one byte a minute keeps its
connection for as long as it likes, and a few hundred such clients hold a
few hundred sockets. So each connection here gets:

* a header deadline — from the moment it opens (or the next request's first
  byte on a kept-alive connection) until the request line and headers are
  complete; past it, the connection is closed;
* a body deadline — from the end of the headers until the whole body has
  arrived. The application answers a slow body itself (408, in
  `app.read_body`); this protocol-level deadline, a few seconds later, closes
  connections whose body nobody is reading (a route that ignores its body).

Both are reset by nothing the client does: trickling bytes does not extend
them. The h11 protocol is used whatever else is installed (uvicorn would pick
httptools if present), so the header-size limit (`h11_max_incomplete_event_size`)
holds too. The subclass uses what H11Protocol keeps for its own keep-alive
timer (`conn`, `transport`, `loop`); tests/test_server_hostile.py exercises it
against a real server, so an uvicorn that changes them fails there first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

BODY_GRACE = 5.0
"""Seconds past the application's body deadline before the connection itself is closed,
so a route that is reading answers 408 first."""


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a body deadline per request."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase = ""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("headers", self.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm("headers", self.header_timeout)  # the next request on a kept-alive connection begins
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Move the deadline along with the request: headers → body → none once it has all arrived."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self._phase != "body":
                self._arm("body", self.body_timeout + BODY_GRACE)
        elif state is not h11.IDLE:  # DONE, MUST_CLOSE, CLOSED, ERROR: nothing more to wait for
            self._disarm()

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._phase = ""

    def _expired(self) -> None:
        self.logger.info("closing a connection: the request's %s did not arrive in time", self._phase)
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol(header_timeout: float, body_timeout: float) -> type[DeadlineH11Protocol]:
    """The protocol class for uvicorn's `http=` setting, with these deadlines."""
    return type("ConfiguredDeadlineH11Protocol", (DeadlineH11Protocol,),
                {"header_timeout": header_timeout, "body_timeout": body_timeout})
