"""A loopback TCP proxy that breaks connections: each one is cut (both directions closed at
once, mid-frame as it happens) after a random number of bytes has passed through it, like a
flaky mobile link dropping in the middle of a sync."""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from dataclasses import dataclass, field


@dataclass
class CutProxy:
    """Forwards ``127.0.0.1:port`` to ``127.0.0.1:target``; cuts each connection after between
    ``cut_min`` and ``cut_max`` bytes (both directions together), or never when ``cut_max`` is 0."""

    target: int
    cut_min: int
    cut_max: int
    seed: int = 0
    cuts: int = 0
    connections: int = 0
    _rng: random.Random = field(init=False)
    _listener: socket.socket = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def stop_cutting(self) -> None:
        self.cut_max = 0

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                budget = self._rng.randint(self.cut_min, self.cut_max) if self.cut_max else None
            _Pair(self, client, upstream, budget).start()


class _Pair:
    def __init__(
        self, proxy: CutProxy, a: socket.socket, b: socket.socket, budget: int | None
    ) -> None:
        self.proxy, self.a, self.b, self.budget = proxy, a, b, budget
        self.lock = threading.Lock()
        self.closed = False

    def start(self) -> None:
        for src, dst in ((self.a, self.b), (self.b, self.a)):
            threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                with self.lock:  # never held while sending: the other direction must flow
                    if self.closed:
                        return
                    cut = self.budget is not None and len(data) >= self.budget
                    if cut:
                        data = data[: self.budget]
                    elif self.budget is not None:
                        self.budget -= len(data)
                dst.sendall(data)
                if cut:
                    with self.lock:
                        self.proxy.cuts += 1
                        self._close()
                    return
        except OSError:
            pass
        with self.lock:
            self._close()

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for s in (self.a, self.b):
            with contextlib.suppress(OSError):
                # Linger 0: close with a reset, as a dropped link looks to the far side.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
