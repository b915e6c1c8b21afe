"""A server that hangs its clients: a loopback port that takes connections and never speaks, and
a check that a timed-out probe left no process behind."""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Iterator

import psutil


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """Yield a port on 127.0.0.1 whose connections complete (in the listen backlog) and then get
    no byte: never accepted, never answered, never closed while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def live_children() -> set[int]:
    """Return the pids of this test process's live descendants (zombies are dead already)."""
    return {
        p.pid
        for p in psutil.Process().children(recursive=True)
        if p.status() != psutil.STATUS_ZOMBIE
    }


def assert_no_process_left(message: str, children_before: set[int]) -> None:
    """Given a timed-out probe's message (which names the killed process group) and the live
    children from before the probe, assert that neither that group nor a new child is alive."""
    found = re.search(r"killed process group (\d+)", message)
    assert found is not None, message
    group = int(found[1])
    left = []
    for proc in psutil.process_iter(["pid", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue  # dead, waiting for its (new) parent to reap it
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            if os.getpgid(proc.info["pid"]) == group:
                left.append(proc.info["pid"])
    assert not left, f"processes of group {group} still alive: {left}"
    new = live_children() - children_before
    assert not new, f"children still alive: {sorted(new)}"
