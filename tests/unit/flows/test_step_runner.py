"""The plain step runner: retries only transient errors, keeps order, never leaves jobs behind."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.errors import ConfigError, RetryDeadlineExceeded
from flows.params import Approval
from flows.steps.runner import PlainRunner


def test_a_network_step_is_retried_after_a_transient_error_only() -> None:
    runner = PlainRunner(retry_delays=(0.0, 0.0))
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryDeadlineExceeded("GET x", waited=1, last_reason="HTTP 503")
        return "ok"

    assert runner.call("extract", flaky, network=True) == "ok"
    assert len(calls) == 3

    terminal: list[int] = []

    def broken() -> str:
        terminal.append(1)
        raise ConfigError("scm.client_id", "missing")

    with pytest.raises(ConfigError):
        runner.call("extract", broken, network=True)
    assert len(terminal) == 1


def test_a_local_step_is_never_retried() -> None:
    runner = PlainRunner(retry_delays=(0.0,))
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        raise RetryDeadlineExceeded("x", waited=1, last_reason="503")

    with pytest.raises(RetryDeadlineExceeded):
        runner.call("build", flaky)
    assert len(calls) == 1


def test_retries_give_up_after_the_last_delay() -> None:
    runner = PlainRunner(retry_delays=(0.0, 0.0))
    calls: list[int] = []

    def always() -> None:
        calls.append(1)
        raise RetryDeadlineExceeded("x", waited=1, last_reason="503")

    with pytest.raises(RetryDeadlineExceeded):
        runner.call("push", always, network=True)
    assert len(calls) == 3


def test_each_keeps_the_jobs_order_and_respects_the_limit() -> None:
    runner = PlainRunner()
    running = 0
    peak = 0
    lock = threading.Lock()

    def job(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02 * (5 - i))
        with lock:
            running -= 1
        return i

    jobs = [(str(i), lambda i=i: job(i)) for i in range(5)]
    assert runner.each("extract", jobs, limit=2) == [0, 1, 2, 3, 4]
    assert peak == 2


def test_each_waits_for_every_running_job_before_it_raises() -> None:
    runner = PlainRunner()
    finished: list[str] = []
    slow_started = threading.Event()

    def slow() -> str:
        slow_started.set()
        time.sleep(0.2)
        finished.append("slow")
        return "slow"

    def bad() -> str:
        slow_started.wait(5)
        raise ConfigError("x", "bad")

    with pytest.raises(ConfigError):
        runner.each("extract", [("bad", bad), ("slow", slow)], limit=2)
    # The failure is raised only once the other job let go of the run's connection.
    assert finished == ["slow"]


def test_without_yes_a_large_plan_is_not_approved() -> None:
    assert PlainRunner().approve("plan", 60) is None
    answer = PlainRunner(approved=True).approve("plan", 60)
    assert isinstance(answer, Approval)
    assert answer.approve


def test_after_a_failure_jobs_not_started_yet_do_not_run() -> None:
    runner = PlainRunner()
    started: list[int] = []

    def job(i: int) -> int:
        started.append(i)
        if i == 0:
            raise ConfigError("x", "bad")
        time.sleep(0.05)
        return i

    with pytest.raises(ConfigError):
        runner.each("extract", [(str(i), lambda i=i: job(i)) for i in range(6)], limit=2)
    assert len(started) < 6
