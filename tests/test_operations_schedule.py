"""Operations (pipeline.md): the nightly schedule, the arrival sensor over a sequence of ticks, the
instance configuration (one run at a time), the pruning of Dagster's old runs, and what `cpmds ui`
and `cpmds restore-previous` say when they cannot act (the browser test starts the UI for real)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from cpmds.cli import main
from cpmds.defs import defs
from cpmds.defs.maintenance import prune_runs, retention_days
from cpmds.defs.resources import PipelineResource
from cpmds.defs.schedules import NIGHTLY_LOAD, nightly_schedule
from cpmds.defs.sensors import QUIET_SECONDS, raw_arrivals
from cpmds.pipeline.home import prepare_home
from cpmds.settings import Settings


def test_the_nightly_load_runs_the_load_job_at_two_in_the_morning_london_time():
    schedule = defs.resolve_schedule_def(NIGHTLY_LOAD)
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/London"
    assert schedule.job_name == "load"  # the job `cpmds run` and the sensor run
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 3, 29, 2, 0, tzinfo=dt.UTC)
    )
    requests = schedule.evaluate_tick(context).run_requests
    assert requests is not None and len(requests) == 1


def test_the_schedule_is_a_setting(monkeypatch):
    monkeypatch.setenv("CPMDS_SCHEDULE", "30 1 * * 1-5")
    monkeypatch.setenv("CPMDS_SCHEDULE_TIMEZONE", "UTC")
    monkeypatch.setenv("CPMDS_AUTOMATION", "on")
    schedule = nightly_schedule()
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 1 * * 1-5", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    monkeypatch.setenv("CPMDS_SCHEDULE", "at two")
    with pytest.raises(ValueError, match="CPMDS_SCHEDULE"):
        nightly_schedule()


def drop(folder: Path, names: list[str], when: float) -> None:
    """Files arriving at ``when`` (their modification time)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = folder / name
        path.write_text("x")
        os.utime(path, (when, when))


class Ticks:
    """The sensor evaluated tick after tick, carrying its cursor as the daemon does."""

    def __init__(self, settings: Settings) -> None:
        self.pipeline = PipelineResource(raw=str(settings.raw), home=str(settings.home))
        self.cursor: str | None = None
        self.requests: list[dg.RunRequest] = []

    def tick(self) -> dg.RunRequest | dg.SkipReason:
        context = dg.build_sensor_context(cursor=self.cursor, resources={"pipeline": self.pipeline})
        result = raw_arrivals(context)
        self.cursor = context.cursor
        if isinstance(result, dg.RunRequest):
            self.requests.append(result)
        return result


def test_a_burst_of_files_gives_one_run_and_nothing_new_gives_none(tmp_path):
    settings = Settings(raw=tmp_path / "raw", home=tmp_path / "home")
    settings.raw.mkdir()
    ticks = Ticks(settings)
    assert isinstance(ticks.tick(), dg.SkipReason)  # an empty landing zone
    folder = settings.raw / "sw" / "S12000036"
    now = time.time()
    # A partner's upload of 40 files, still going on over several ticks: no run yet.
    names = [f"concerns_2024{m:02d}_20240705120{i}.csv" for m in range(1, 11) for i in range(4)]
    for batch in range(4):
        drop(folder, names[batch * 10 : (batch + 1) * 10], now)
        assert isinstance(ticks.tick(), dg.SkipReason)
    # The upload has been quiet for long enough: one run for the whole burst.
    settled = now - QUIET_SECONDS - 1
    for path in folder.iterdir():
        os.utime(path, (settled, settled))
    assert isinstance(ticks.tick(), dg.RunRequest)
    # Nothing new since: no more runs, however many ticks.
    for _ in range(3):
        assert isinstance(ticks.tick(), dg.SkipReason)
    assert len(ticks.requests) == 1
    # A later file, once quiet, is a new run with a run key of its own.
    drop(folder, ["concerns_202411_202412051200.csv"], settled)
    assert isinstance(ticks.tick(), dg.RunRequest)
    assert len({request.run_key for request in ticks.requests}) == 2


def test_the_instance_runs_one_load_at_a_time(tmp_path):
    settings = Settings(raw=tmp_path / "raw", home=tmp_path / "home")
    dagster_home = prepare_home(settings)
    assert dagster_home == settings.home / "dagster"
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.run_monitoring_enabled
        # Local, file-based storage under the home.
        assert Path(instance.root_directory) == dagster_home


def test_old_finished_runs_are_pruned_and_recent_ones_kept(tmp_path, monkeypatch):
    @dg.op
    def nothing() -> None:
        pass

    @dg.job
    def tiny() -> None:
        nothing()

    with dg.DagsterInstance.ephemeral(tempdir=str(tmp_path)) as instance:
        old = tiny.execute_in_process(instance=instance).run_id
        recent = tiny.execute_in_process(instance=instance).run_id
        created = {r.dagster_run.run_id: r.create_timestamp for r in instance.get_run_records()}
        between = created[old] + (created[recent] - created[old]) / 2
        assert prune_runs(instance, between) == 1
        assert instance.get_run_by_id(old) is None
        assert instance.get_run_by_id(recent) is not None
    monkeypatch.setenv("CPMDS_DAGSTER_RUN_RETENTION_DAYS", "30")
    assert retention_days() == 30
    monkeypatch.setenv("CPMDS_DAGSTER_RUN_RETENTION_DAYS", "a year")
    with pytest.raises(ValueError, match="CPMDS_DAGSTER_RUN_RETENTION_DAYS"):
        retention_days()


def test_the_ui_refuses_a_port_in_use_before_starting_anything(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        arguments = ["ui", "--home", str(tmp_path / "home"), "--port", str(port)]
        result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert f"port {port}" in result.output and "in use" in result.output
    assert not (tmp_path / "home").exists()


def test_restore_previous_with_nothing_published_before_says_so(tmp_path):
    result = CliRunner().invoke(main, ["restore-previous", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "Nothing restored" in result.output
