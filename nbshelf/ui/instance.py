"""One app per library: a second launch hands its file to the running window and exits.

The first app on a library takes a lock file (``QLockFile``: the OS pid check frees it when its
holder dies) and listens on a local socket whose name comes from the user and the library
folder. A later launch finds the lock taken, connects, sends one JSON line, reads one JSON line
back and exits 0. Only the user who started the app can connect (``UserAccessOption``).

Messages (one JSON object per line, each answered by one):

- ``{"cmd": "open", "file": "/abs/path.ipynb"}``: show that notebook, bring the window up;
- ``{"cmd": "activate"}``: bring the window up;
- ``{"cmd": "state"}``: ``{"ok": true, "title": ..., "notebook": id | null, "ready": bool}``;
- ``{"cmd": "quit"}``: close the window (tests and scripts use it).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDir, QLockFile, QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def server_name(library_root: Path) -> str:
    """The local socket name of the app on this library, for this user."""
    real = os.path.realpath(os.path.abspath(library_root))
    digest = hashlib.sha256(f"{getpass.getuser()}\0{real}".encode()).hexdigest()[:20]
    return f"nbshelf-{digest}"


def send(name: str, message: dict[str, Any], timeout_ms: int = 3000) -> dict[str, Any] | None:
    """Send one message to the app listening on ``name``; its answer, or None if none came."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return None
    sock.write(json.dumps(message).encode("utf-8") + b"\n")
    sock.waitForBytesWritten(timeout_ms)
    received = b""
    deadline = time.monotonic() + timeout_ms / 1000
    while b"\n" not in received:
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0 or not sock.waitForReadyRead(left):
            break
        received += bytes(sock.readAll().data())
    if sock.state() == QLocalSocket.LocalSocketState.ConnectedState:
        sock.disconnectFromServer()
    line = received.split(b"\n", 1)[0]
    try:
        answer = json.loads(line.decode("utf-8"))
    except ValueError:  # no answer, or not JSON: the other side is not a working nbshelf
        return None
    return answer if isinstance(answer, dict) else None


class SingleInstance(QObject):
    """The single-instance guard for one library.

    Call :meth:`acquire` first. True: this is the app; call :meth:`listen`. False: another
    app runs on this library; :meth:`forward` the request to it.
    """

    def __init__(self, library_root: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(library_root)
        self._lock = QLockFile(os.path.join(QDir.tempPath(), f"{self.name}.lock"))
        self._lock.setStaleLockTime(0)  # stale means "its process is gone", never "old"
        self._server: QLocalServer | None = None
        self._handler: Handler | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    def acquire(self) -> bool:
        """Take the per-library lock; False when another app holds it."""
        return bool(self._lock.tryLock(0))

    def forward(self, message: dict[str, Any], wait_s: float = 10.0) -> dict[str, Any] | None:
        """Send ``message`` to the running app, retrying while it is still starting up."""
        deadline = time.monotonic() + wait_s
        while True:
            answer = send(self.name, message)
            if answer is not None or time.monotonic() > deadline:
                return answer
            time.sleep(0.1)

    def listen(self, handler: Handler) -> bool:
        """Answer other launches with ``handler(message) -> reply``; False if that fails."""
        self._handler = handler
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        # We hold the lock, so a socket file left under this name is a dead app's: remove it.
        QLocalServer.removeServer(self.name)
        if not server.listen(self.name):
            log.warning("single-instance server %s: %s", self.name, server.errorString())
            return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def close(self) -> None:
        """Stop listening and give the lock up."""
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()

    def _accept(self) -> None:
        assert self._server is not None
        while (sock := self._server.nextPendingConnection()) is not None:
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._drop(s))

    def _drop(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        data = self._buffers.get(sock, b"") + bytes(sock.readAll().data())
        if b"\n" not in data:
            self._buffers[sock] = data[-65536:]
            return
        line = data.split(b"\n", 1)[0]
        self._buffers[sock] = b""
        try:
            message = json.loads(line.decode("utf-8"))
        except ValueError:
            message = None
        if isinstance(message, dict) and self._handler is not None:
            reply = self._handler(message)
        else:
            reply = {"ok": False, "error": "not a JSON object"}
        sock.write(json.dumps(reply).encode("utf-8") + b"\n")
        sock.flush()
        sock.disconnectFromServer()
