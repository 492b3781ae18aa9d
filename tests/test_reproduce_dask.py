"""``pynncomp reproduce --scheduler``: a target's runs on a Dask cluster (a LocalCluster of 2 processes).

The tests that need Dask are skipped when ``distributed`` is not installed
(``pip install -e ".[test,dask]"``); the ones about its absence run always.
"""
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from pynncomp import cli, io
from pynncomp.reproduce import cluster, runlog, runner, targets
from pynncomp.reproduce.runner import reproduce

SYNTH = {"n_train": 600, "n_test": 200}
SLOW_SYNTH = {"n_train": 2500, "n_test": 200}  # runs long enough for a kill to land in one
# the numbers of a record that do not depend on the wall time or on which process ran it
SAME_NUMBERS = ("test_accuracy", "val_accuracy", "val_curve", "weights_kept", "achieved_sparsity", "epochs", "layers")

needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason='Dask is not installed (pip install "pynncomp[dask]")')
pytestmark = pytest.mark.usefixtures("isolated_data")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A LocalCluster of 2 single-threaded worker processes, with no MNIST anywhere they look."""
    distributed = pytest.importorskip("distributed")
    home = tmp_path_factory.mktemp("worker-cache")
    env = {"XDG_CACHE_HOME": str(home), "PYNNCOMP_DATA": "", "PYNNCOMP_MNIST_MIRRORS": (home / "none").as_uri()}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  env=env) as local:
        yield local


def keys_in(log):
    return [json.loads(line)["run_key"] for line in log.read_text().splitlines()]


def wait_for_records(log, count, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and (not log.exists() or log.read_bytes().count(b"\n") < count):
        time.sleep(0.02)
    assert log.exists() and log.read_bytes().count(b"\n") >= count, f"fewer than {count} records in {timeout} s"


@needs_dask
def test_a_fast_target_on_a_local_cluster_gives_the_local_runners_numbers(tmp_path):
    common = {"fast": True, "runs": 1, "datasets": ["synthetic-digits"], "data_options": SYNTH}
    said = []
    assert reproduce("table1", tmp_path / "dask", scheduler="local:2", say=said.append, **common) == (3, 0)
    assert reproduce("table1", tmp_path / "local", say=lambda *a: None, **common) == (3, 0)
    on_dask = runlog.read_runs(tmp_path / "dask" / "runs.jsonl")[0]
    local = runlog.read_runs(tmp_path / "local" / "runs.jsonl")[0]
    assert set(on_dask) == set(local) and len(local) == 3
    for key, record in local.items():
        assert {name: on_dask[key][name] for name in SAME_NUMBERS} == {name: record[name] for name in SAME_NUMBERS}
    assert said[0].endswith("3 to do on a local Dask cluster of 2 worker processes")
    assert "Dask scheduler tcp://127.0.0.1:" in said[1] and ": 2 workers, 2 threads" in said[1]
    assert said[2].startswith("Dask dashboard: ")
    assert [line.split("]")[0] for line in said[3:]] == ["[1/3", "[2/3", "[3/3"]
    assert all("test " in line and "ETA" in line for line in said[3:])
    # everything done: nothing is submitted, and no cluster is started
    again = []
    assert reproduce("table1", tmp_path / "dask", scheduler="local:2", say=again.append, **common) == (0, 0)
    assert again == [f"table1: 3 runs, 3 already in {tmp_path / 'dask' / 'runs.jsonl'}, 0 to do"]


@needs_dask
def test_models_come_back_to_the_client_and_workers_limit_their_blas(tmp_path, dask_cluster):
    import distributed

    results = tmp_path / "res"
    assert reproduce("fig6", results, fast=True, runs=1, datasets=["synthetic-digits"], data_options=SYNTH,
                     scheduler=dask_cluster.scheduler_address, say=lambda *a: None) == (2, 0)
    records = runlog.read_runs(results / "runs.jsonl")[0]
    assert len(records) == 2
    for key, record in records.items():
        path = results / record["model_file"]
        assert path.stat().st_size == record["file_bytes"] and io.load_metadata(path)["run_key"] == key
    with distributed.Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        started = client.run(lambda: list(runner._DASK_WORKER_STARTED))
        threads = client.run(lambda: [entry["num_threads"] for entry in __import__("threadpoolctl").threadpool_info()
                                      if entry["user_api"] == "blas"])
    assert any(started.values())
    assert all(threads[worker] and set(threads[worker]) == {1} for worker, flag in started.items() if flag)


@needs_dask
def test_a_worker_killed_mid_run_loses_no_run_and_records_none_twice(tmp_path, dask_cluster):
    import distributed

    address = dask_cluster.scheduler_address
    log = tmp_path / "runs.jsonl"
    killed = []

    def kill_a_busy_worker():
        wait_for_records(log, 1)
        with distributed.Client(address, set_as_default=False) as client:
            pids = client.run(os.getpid)
            busy = [(worker, keys) for worker, keys in client.processing().items() if keys]
            if busy:
                worker, keys = busy[0]
                os.kill(pids[worker], signal.SIGKILL)
                written = set(keys_in(log))
                killed.extend(key[1] for key in keys if key[1] not in written)  # its runs in flight

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    said = []
    try:
        done = reproduce("table1", tmp_path, fast=True, runs=2, datasets=["synthetic-digits"],
                         data_options=SLOW_SYNTH, scheduler=address, say=said.append)
    finally:
        killer.join()
    assert killed, "no run was in flight on a worker after the first record"
    assert done == (6, 0), said
    keys = keys_in(log)
    assert len(keys) == len(set(keys)) == 6 and set(killed) <= set(keys)


@needs_dask
def test_a_killed_client_resumes_without_recomputing_or_losing(tmp_path, dask_cluster):
    results = tmp_path / "res"
    log = results / "runs.jsonl"
    command = [sys.executable, "-m", "pynncomp", "reproduce", "table1", "--fast", "--runs", "2",
               "--datasets", "synthetic-digits", "--n-train", "2500", "--n-test", "200", "--results", str(results),
               "--scheduler", dask_cluster.scheduler_address]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        wait_for_records(log, 1)
    finally:
        os.kill(process.pid, signal.SIGKILL)  # the client alone: the cluster goes on
        process.communicate()
    before = log.read_bytes()
    n_before = before.count(b"\n")
    assert 1 <= n_before < 6, "the kill must land mid-grid"
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{n_before} already in" in result.stdout and f"{6 - n_before} to do" in result.stdout
    after = log.read_bytes()
    assert after.startswith(before)
    keys = keys_in(log)
    assert len(keys) == len(set(keys)) == 6


@needs_dask
def test_a_worker_without_mnist_fails_the_run_naming_the_worker(tmp_path, dask_cluster):
    said = []
    assert reproduce("table1", tmp_path, fast=True, runs=1, levels=[0.0], datasets=["mnist"],
                     scheduler=dask_cluster.scheduler_address, say=said.append) == (0, 1)
    failed = [line for line in said if "FAILED" in line]
    assert len(failed) == 1
    key = targets.run_key(targets.grid("table1", 1, True, ["mnist"], [0.0])[0])
    assert failed[0].startswith(f"[1/1] {key}: FAILED on tcp://127.0.0.1:")
    assert ": DataNotFoundError: " in failed[0] and "PYNNCOMP_DATA" in failed[0]
    assert (tmp_path / "runs.jsonl").read_text() == ""


def test_without_dask_the_error_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    argv = ["reproduce", "table1", "--fast", "--datasets", "synthetic-digits", "--results", str(tmp_path)]
    assert cli.main(argv + ["--scheduler", "local:2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pynncomp: error: --scheduler needs Dask's distributed scheduler, which is not installed")
    assert 'install the extra: pip install "pynncomp[dask]"' in err and "Traceback" not in err
    assert not (tmp_path / "runs.jsonl").exists()
    # a dry run needs no Dask
    assert cli.main(argv + ["--scheduler", "local:2", "--dry-run"]) == 0
    assert "6 to do on a local Dask cluster of 2 worker processes" in capsys.readouterr().out


def test_the_local_runner_imports_no_dask(tmp_path):
    program = (
        "import sys\n"
        "from pynncomp.reproduce import reproduce\n"
        f"reproduce('table1', {str(tmp_path)!r}, fast=True, runs=1, levels=[0.0], datasets=['synthetic-digits'],\n"
        f"          data_options={SYNTH!r}, say=lambda *a: None)\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'dask', 'distributed'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("extra, message", [
    (["--scheduler", "local:0"], "--scheduler: scheduler must be local, local:N (N >= 1) or a Dask scheduler's "
                                 "address such as tcp://host:8786, got 'local:0'"),
    (["--scheduler", "local:two"], "got 'local:two'"),
    (["--scheduler", ""], "got ''"),
    (["--scheduler", "local:2", "--jobs", "2"], "jobs (--jobs) is for the local runner"),
])
def test_a_malformed_scheduler_is_refused(tmp_path, capsys, extra, message):
    argv = ["reproduce", "table1", "--fast", "--datasets", "synthetic-digits", "--results", str(tmp_path)]
    assert cli.main(argv + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("pynncomp: error: ") and message in err


@needs_dask
def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["reproduce", "table1", "--fast", "--datasets", "synthetic-digits", "--results", str(tmp_path)]
    assert cli.main(argv + ["--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pynncomp: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    assert "--scheduler local[:N]" in err and "Traceback" not in err
    assert cli.main(argv + ["--scheduler", "nosuchscheme://127.0.0.1:1"]) == 2
    assert "scheduler 'nosuchscheme://127.0.0.1:1' is not an address Dask can connect to" in capsys.readouterr().err
