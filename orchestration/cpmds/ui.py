"""`cpmds ui`: the Dagster webserver and daemon for one home, on 127.0.0.1 (interface.md).

Both load the code location ``cpmds.defs`` with the home's instance (``<home>/dagster/``,
``DAGSTER_HOME``), so the UI shows the runs `cpmds run` made there, and the daemon runs the nightly
schedule, the arrival sensor and the run queue for that home.

Each server runs in a process group of its own, with the default handling of SIGINT and SIGTERM
restored (a shell that starts a job in the background may leave them ignored, and a child inherits
that), so that stopping a group stops the server with the code servers and runs it started.
Ctrl-C, SIGTERM or SIGHUP stops both: SIGTERM to each group, then SIGKILL to what is left after a
grace period. If either server stops by itself, the other is stopped too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cpmds.pipeline.home import prepare_home
from cpmds.settings import HOME_VARIABLE, RAW_VARIABLE, Settings

LOOPBACK = "127.0.0.1"
CODE_LOCATION = "cpmds.defs"
GRACE_SECONDS = 20.0
POLL_SECONDS = 0.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

EXIT_STOPPED = 0
EXIT_SERVER_DIED = 1
EXIT_USAGE = 2


@dataclass
class Server:
    name: str
    process: subprocess.Popen

    @property
    def group(self) -> int:
        return self.process.pid  # the leader of a new session: its group id is its pid


def server_commands(port: int) -> dict[str, list[str]]:
    return {
        "webserver": [
            _script("dagster-webserver"),
            *("--host", LOOPBACK, "--port", str(port), "--module-name", CODE_LOCATION),
        ],
        "daemon": [_script("dagster-daemon"), "run", "--module-name", CODE_LOCATION],
    }


def server_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(prepare_home(settings)),
        HOME_VARIABLE: str(settings.home),
        RAW_VARIABLE: str(settings.raw),
    }


def serve(settings: Settings, port: int, echo: Callable[[str], None]) -> int:
    """Run the webserver and the daemon until a stop signal (or until one of them stops)."""
    if not _port_free(port):
        echo(f"cpmds ui: port {port} on {LOOPBACK} is in use; choose another with --port")
        return EXIT_USAGE
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in STOP_SIGNALS}
    environment = server_environment(settings)
    servers: list[Server] = []
    try:
        for name, command in server_commands(port).items():
            servers.append(Server(name, _start(command, environment)))
        url = f"http://{LOOPBACK}:{port}"
        echo(f"Dagster UI starting at {url} (instance {environment['DAGSTER_HOME']})")
        echo(f"Landing zone {settings.raw}. Ctrl-C stops the webserver and the daemon.")
        ready = False
        while not stop.wait(POLL_SECONDS):
            if any(server.process.poll() is not None for server in servers):
                break
            if not ready and _answers(url):
                ready = True
                echo(f"Dagster UI ready: {url}")
    finally:
        died = [server.name for server in servers if server.process.poll() is not None]
        _stop_all(servers)
        for number, handler in previous.items():
            signal.signal(number, handler)
    if died and not stop.is_set():
        echo(f"cpmds ui: the {' and the '.join(died)} stopped by itself; stopped the rest")
        return EXIT_SERVER_DIED
    echo("Stopped the Dagster webserver and daemon.")
    return EXIT_STOPPED


def _script(name: str) -> str:
    """The console script installed beside this Python (the project's environment)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _restore_default_signals() -> None:
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_DFL)


def _start(command: list[str], environment: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        env=environment,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_restore_default_signals,
    )


def _stop_all(servers: list[Server]) -> None:
    """SIGTERM every server's group, then SIGKILL whatever is left after the grace period."""
    for server in servers:
        _signal_group(server.group, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and any(_group_alive(s.group) for s in servers):
        for server in servers:
            server.process.poll()  # reap the leader, so it does not linger as a zombie
        time.sleep(0.2)
    for server in servers:
        if _group_alive(server.group):
            _signal_group(server.group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=GRACE_SECONDS)


def _signal_group(group: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, number)


def _group_alive(group: int) -> bool:
    """Whether any process of the group is still running (zombies waiting for a parent that is
    not this process do not count: they run nothing)."""
    if not Path("/proc").is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            return True
    return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
