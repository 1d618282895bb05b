"""`cpmds ui` (interface.md) in a real browser: the Dagster webserver and daemon started on a free
loopback port against a small loaded home, the asset graph and the latest run opened in headless
Chromium (Debian's, driven by Playwright), the gate checks and the dbt models seen on the pages,
screenshots saved, and then Ctrl-C stops everything: no process of it is left.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpmds.pipeline.runner import run_load
from cpmds.settings import Settings
from cpmds.synthetic import GenerateOptions, generate

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCATION = "cpmds.defs"
READY = "Dagster UI ready"
SLOW = 180_000  # ms: loading the code location is slow on a busy machine

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} to drive the browser test with"
)


@pytest.fixture(scope="module")
def loaded_home(tmp_path_factory) -> Settings:
    base = tmp_path_factory.mktemp("ui")
    options = GenerateOptions.build(
        out=base / "raw", seed=4, councils=1, period_from=202401, period_to=202402, scale=0.3
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    outcome = run_load(settings)
    assert outcome.exit_code == 0, outcome.describe()
    return settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_of(home: Path) -> list[int]:
    """Running processes (not zombies) started for ``home`` outside this test's own process group
    (the fixture's load ran in this process, and Dagster's log watchers it started end with it)."""
    marker = f"CPMDS_HOME={home}".encode()
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
            environment = (folder / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if state != "Z" and group != os.getpgid(0) and marker in environment:
            found.append(int(folder.name))
    return found


class UI:
    """`cpmds ui` as a user starts it in a terminal of its own (its own process group)."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "cpmds"),
                *("ui", "--home", str(settings.home), "--port", str(port)),
            ],
            env={**os.environ, "CPMDS_RAW": str(settings.raw), "CPMDS_HOME": str(settings.home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout))
        self.reader.start()

    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_ready(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while not any(READY in line for line in self.lines):
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.5)

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=120)
        self.reader.join()
        return code


@pytest.fixture
def ui(loaded_home) -> Iterator[UI]:
    server = UI(loaded_home, free_port())
    try:
        yield server
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
        for pid in processes_of(loaded_home.home):  # only what this test started
            os.kill(pid, signal.SIGKILL)


def test_the_ui_shows_the_asset_graph_the_gates_and_the_latest_run(ui, loaded_home, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ui.wait_until_ready()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(SLOW)
        expect.set_options(timeout=SLOW)

        def visit(path: str, shot: str, *texts: str) -> None:
            page.goto(ui.url + path)
            for text in texts:
                expect(page.get_by_text(text, exact=True).first).to_be_visible()
            page.screenshot(path=shots / f"{shot}.png")

        # The whole graph, by group: landing files through the gates and dbt to publication.
        visit("/asset-groups", "1-lineage", "land", "ingest", "staging", "marts", "publish")
        # A group of dbt models, materialized by the run, with their checks.
        marts = f"/locations/{LOCATION}/asset-groups/marts"
        visit(marts, "2-marts", "fct_registrations", "dbt", "Materialized", "Asset checks")
        # Gates 1 and 2 on a landing asset, gate 3 on the indicators, each opened: blocking
        # checks with their descriptions; dbt's tests listed beside gate 3 (their long names are
        # cut short in the list, so by their start).
        for asset, gate, about, shot in [
            ("landing/sw__registrations", "gate_rows", "Gate 2, the rows", "3-gate-2"),
            ("marts/indicator_values", "gate_marts", "Gate 3 (pipeline.md, step 7)", "4-gate-3"),
        ]:
            page.goto(f"{ui.url}/assets/{asset}?view=checks")
            page.get_by_text(gate, exact=True).first.click()
            expect(page.get_by_text(about).first).to_be_visible()
            expect(page.get_by_text("blocking").first).to_be_visible()
            page.screenshot(path=shots / f"{shot}.png")
        expect(page.get_by_text(re.compile(r"^not_null_")).first).to_be_visible()
        page.goto(f"{ui.url}/assets/landing/sw__registrations?view=checks")
        expect(page.get_by_text("gate_file", exact=True).first).to_be_visible()
        # The latest run: its steps, the gate-3 step among them, and its outcome.
        page.goto(ui.url + "/runs")
        page.locator('a[href^="/runs/"]').first.click()
        expect(page.get_by_text("Success").first).to_be_visible()
        gate_3_step = page.get_by_text("marts__indicator_values_gate_marts").first
        try:
            expect(gate_3_step).to_be_visible(timeout=SLOW // 3)
        except AssertionError:
            # Once, in a full parallel test run, the run page drew its step chart with no step
            # in it at all (the run had all 24, the gate among them): drawn again, it has them.
            page.reload()
            expect(gate_3_step).to_be_visible()
        page.screenshot(path=shots / "5-latest-run.png")
        browser.close()

    assert ui.interrupt() == 0, ui.output()
    assert "Stopped the Dagster webserver and daemon." in ui.output()
    assert processes_of(loaded_home.home) == []
    assert sorted(path.name for path in shots.iterdir()) == [
        "1-lineage.png",
        "2-marts.png",
        "3-gate-2.png",
        "4-gate-3.png",
        "5-latest-run.png",
    ]
