"""The benchmark's outside programs on loopback: nginx serving a small JSON file, blackbox_exporter and wrk.

Each server is a context manager that starts the program in the foreground on a free 127.0.0.1 port,
waits until it answers, and stops it (and removes its temp files) on the way out.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

TOOLS = {
    "nginx": "nginx",
    "wrk": "wrk",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
}
"""Program name → Debian package that provides it."""

HEALTH_JSON = b'{"status": "ok", "service": "bench", "version": "1.0.0"}\n'

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
worker_rlimit_nofile 65536;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{ application/json json; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096 reuseport;
        root {root}/www;
    }}
}}
"""

BLACKBOX_CONF = """\
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


def ensure_tools() -> None:
    """Install nginx, wrk and blackbox_exporter with apt-get when any is missing (needs root)."""
    missing = [pkg for prog, pkg in TOOLS.items() if shutil.which(prog) is None]
    if not missing:
        return
    print(f"installing {', '.join(missing)} with apt-get …", flush=True)
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if subprocess.run(install, capture_output=True).returncode != 0:
        # The package lists are fetched only when the install cannot find the packages without them.
        subprocess.run(["apt-get", "update"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:port; fail if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} on start")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process we started, and kill it if it does not exit within five seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def nginx(workers: int = 2) -> Iterator[str]:
    """Run nginx on a free port; yield the URL of its small JSON file."""
    root = Path(tempfile.mkdtemp(prefix="wk-bench-nginx-"))
    try:
        # nginx's workers run as nobody when the master is root, and must read the file.
        root.chmod(0o755)
        (root / "www").mkdir(mode=0o755)
        (root / "tmp").mkdir()
        (root / "www" / "health.json").write_bytes(HEALTH_JSON)
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(workers=workers, root=root, port=port))
        process = subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", str(root), "-e", str(root / "error.log")]
        )
        try:
            wait_for_port(port, process)
            yield f"http://127.0.0.1:{port}/health.json"
        finally:
            stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def blackbox(target: str) -> Iterator[str]:
    """Run blackbox_exporter on a free port; yield its /probe URL for ``target`` (module http_2xx)."""
    root = Path(tempfile.mkdtemp(prefix="wk-bench-blackbox-"))
    try:
        conf = root / "blackbox.yml"
        conf.write_text(BLACKBOX_CONF)
        port = free_port()
        argv = [
            "prometheus-blackbox-exporter",
            f"--config.file={conf}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        process = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, process)
            query = urlencode({"target": target, "module": "http_2xx"})
            yield f"http://127.0.0.1:{port}/probe?{query}"
        finally:
            stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def probe_succeeds(probe_url: str) -> bool:
    """Given a blackbox /probe URL, return True when one probe through it reports success."""
    with urllib.request.urlopen(probe_url, timeout=10) as response:
        return b"\nprobe_success 1" in response.read()


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reported."""

    requests_per_second: float
    requests: int
    errors: int
    """Socket errors plus non-2xx/3xx responses."""


def wrk(url: str, *, threads: int = 2, connections: int = 100, seconds: int = 10) -> WrkResult:
    """Given a URL, load it with wrk and return its rate and errors."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        errors=errors + (int(bad.group(1)) if bad else 0),
    )
