"""The processes the benchmark starts and what it reads of them: the real ``hallsync`` CLI with
the benchmark's environment, free loopback ports, CPU seconds per process and for the machine
(``/proc``), and a socket's TCP byte counters."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from typing import Any

from bench.ingest import ADMIN_PASSWORD, CONTACT_KEY, ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env() -> dict[str, str]:
    e = {
        **os.environ,
        "HALLSYNC_HQ_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HALLSYNC_CONTACT_KEY": CONTACT_KEY,
        "HALLSYNC_LOG_LEVEL": "warning",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    e.pop("HALLSYNC_DATABASE_URL", None)
    return e


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"hallsync {' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def tcp_bytes(sock: Any) -> tuple[int, int]:
    """``(bytes sent and acknowledged, bytes received)`` of a TCP socket (Linux TCP_INFO)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < 136:
        return 0, 0
    acked, received = struct.unpack_from("QQ", info, 120)
    return int(acked), int(received)


# ------------------------------------------------------------------ CPU accounting

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process used so far, 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> float:
    """CPU seconds all cores spent not idle, since boot."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return (sum(cpu[:8]) - idle) / TICK
