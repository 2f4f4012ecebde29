"""A real `reviewlens serve` process on loopback, for tests and benchmarks.

Behaviour that users meet through a server (early 413s, crashes, restarts, pages in a browser,
latency over sockets) is checked against the server they run, not an in-process stand-in. The
process gets its own process group so that stopping or killing it takes along everything it
started (the extraction fork server, the tagging pool).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

REVIEWLENS = str(Path(sys.executable).with_name("reviewlens"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """`reviewlens serve --data-dir DATA_DIR` on a free loopback port.

    `env` is laid over the caller's environment. Output goes to `log_path` (default: a file
    beside the data folder), so a test that fails can say what the server said.
    """

    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str] | None = None,
        *,
        log_path: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.env = dict(env or {})
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or data_dir.parent / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> ServeProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [REVIEWLENS, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            if self.process.poll() is not None:
                raise RuntimeError("reviewlens serve exited while starting:\n" + self.log()[-2000:])
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("reviewlens serve did not come up:\n" + self.log()[-2000:])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the server and everything it started, as a crash or power cut would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        # anything the server started and left behind goes with it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def __enter__(self) -> ServeProcess:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
