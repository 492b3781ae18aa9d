"""``pynncomp reproduce``: run a target's grid, resumably, on N worker processes.

Every finished run is appended to ``DIR/runs.jsonl`` (:mod:`.runlog`) by
this (the parent) process as soon as it finishes; a run whose key is
already there is skipped.  Stop it any time (Ctrl-C, a kill, a crash) and
start it again with the same command: it goes on with the runs missing, and
loses at most the ones in progress.

With ``jobs > 1`` the runs go to that many worker processes (``spawn``).
Each worker starts by limiting its BLAS to ``cpu_count // jobs`` threads
(:func:`start_worker`; a count the user set in the environment, which the
workers inherit, wins), so that two workers on two cores do not fight over
four BLAS threads.  A worker keeps each data set it has loaded, and the
state after pre-training of each (network, penalty, seed, data set) it has
trained: the levels of a table, and the methods that differ only in their
pruning steps (MagL2, OBD, OBS, L-OBS), share their first
``pretrain_epochs`` epochs, so these are trained about once per seed and
worker instead of once per run (exactly the same numbers; see
``pretrained`` in :func:`pynncomp.experiment.run`).

With ``scheduler`` the runs go to a Dask cluster instead (:mod:`.cluster`),
with the same log, resume, progress and worker start-up.
"""
import concurrent.futures
import concurrent.futures.process
import dataclasses
import functools
import multiprocessing
import os
import pathlib
import tempfile
import threading
import time

from .. import data, experiment, io, models
from .._memory import keep_freed_memory
from .._threads import limit_blas_threads
from ..train import Protocol
from . import convnets, han, runlog, targets
from .tables import duration


DRY_RUN_SHOWN = 20  # run keys listed by a dry run
# A run's own errors (missing or corrupt data, a diverged training): reported, the other runs go on.
RUN_ERRORS = (ValueError, FloatingPointError, OSError)


class WorkerDied(OSError):
    """A worker process ended without returning its run (the finished runs are saved)."""


_DATASETS = {}
# States after pre-training, shared by the runs of a worker that differ only
# in the target sparsity or in their pruning steps (bit-identical results;
# pynncomp.experiment.run).
_PRETRAINED = {}


def _dataset(name, layout, data_options):
    key = (name, layout, tuple(sorted(data_options.items())))
    if key not in _DATASETS:
        options = dict(data_options)
        if name != "synthetic-digits":
            options.pop("n_train", None)
            options.pop("n_test", None)
        _DATASETS[key] = data.load(name, layout=layout, **options)
    return _DATASETS[key]


def _subsets(spec, dataset):
    """The data set cut to the spec's ``train_subset`` / ``eval_subset`` (``--fast``)."""
    if spec.get("train_subset"):
        n = spec["train_subset"]
        dataset = dataclasses.replace(dataset, X_train=dataset.X_train[:n], y_train=dataset.y_train[:n])
    if spec.get("eval_subset"):
        n = spec["eval_subset"]
        dataset = dataclasses.replace(dataset, X_val=dataset.X_val[:n], y_val=dataset.y_val[:n],
                                      X_test=dataset.X_test[:n], y_test=dataset.y_test[:n])
    return dataset


def trained_twin(spec, results_dir):
    """(model, record, key) of the saved run ``spec`` only measures, or None.

    A ``han-sensitivity`` run is the dense LeNet of ``han-lenet300`` /
    ``han-lenet5`` (same protocol, seed, split and data), trained only to be
    measured.  When that twin has its record in ``runs.jsonl`` and its model
    file under ``results_dir``, the measurement is made on the saved model,
    which predicts bit for bit as the trained one (:func:`pynncomp.io.load_model`),
    instead of training the same net again: a LeNet-5 saves about 20 min.
    """
    if spec["method"] != "dense" or not spec.get("sensitivity") or results_dir is None:
        return None
    twin = {name: value for name, value in spec.items() if name != "sensitivity"}
    twin["save_model"] = True
    key = targets.run_key(twin)
    record = runlog.read_runs(pathlib.Path(results_dir) / runlog.FILE_NAME)[0].get(key)
    if record is None or not record.get("model_file"):
        return None
    path = pathlib.Path(results_dir) / record["model_file"]
    try:
        if io.load_metadata(path).get("run_key") != key:
            return None
        return io.load_model(path), record, key
    except ValueError:  # missing or damaged: train instead
        return None


def execute(spec, data_options, results_dir, models_dir=None):
    """Train the run ``spec`` and return its record (with ``run_key``); runs in a worker.

    A model the spec keeps is saved under ``models_dir`` (default
    ``results_dir``) as ``models/NAME.npz``, the record's ``model_file``.
    """
    key = targets.run_key(spec)
    started = time.perf_counter()
    if spec["method"] == "conv":
        record = convnets.execute(spec, _dataset(spec["dataset"], "image", data_options))
    else:
        options = dict(data_options, split=spec.get("split", "paper"))
        dataset = _subsets(spec, _dataset(spec["dataset"], models.layout_of(spec["arch"]), options))
        twin = trained_twin(spec, results_dir)
        if twin is None:
            model, record = experiment.run(spec["method"], dataset, arch=spec["arch"], hidden=spec["hidden"],
                                           sparsity=spec["sparsity"], seed=spec["seed"],
                                           protocol=Protocol(**spec["protocol"]), pretrained=_PRETRAINED,
                                           layer_sparsity=spec.get("layer_sparsity"))
            record["val_curve"] = [entry["val_accuracy"] for entry in record.pop("history")]
        else:
            model, twin_record, twin_key = twin
            record = {name: value for name, value in twin_record.items()
                      if name not in ("run_key", "model_file", "file_bytes", "data_options")}
            record["model_reused_from"] = twin_key
        han.analyses(spec, model, dataset, record)
        if twin is not None:
            # this run's own time (load + measure); the training's is in the twin's record
            record["wall_s"] = time.perf_counter() - started
        if spec.get("save_model"):
            path = pathlib.Path(models_dir or results_dir) / "models" / f"{key.replace('/', '_')}.npz"
            # the data it was trained on: pynncomp evaluate measures it on the same
            metadata = {"run_key": key, "data": record["config"]["data"]}
            record["file_bytes"] = io.save_model(path, model, metadata=metadata)
            record["model_file"] = f"models/{path.name}"
    record["run_key"] = key
    record["data_options"] = data_options
    return record


def reproduce(target, results_dir, *, runs=None, jobs=1, fast=False, datasets=None, levels=None,
              data_options=None, say=None, dry_run=False, scheduler=None):
    """Run every missing run of ``target``; returns (number run now, number failed).

    Parameters
    ----------
    target : str, one of :data:`pynncomp.reproduce.targets.TARGETS`
    results_dir : path
        Holds ``runs.jsonl`` (and ``models/`` for targets that keep models).
    runs, fast, datasets, levels : see :func:`pynncomp.reproduce.targets.grid`
    jobs : int >= 1
        Worker processes (1: run in this process).
    data_options : dict
        Passed to :func:`pynncomp.data.load` (``root``, ``val_size``; for
        synthetic-digits ``n_train``, ``n_test``).
    say : None or callable
        Where progress lines go (default: printed at once).
    dry_run : bool
        Only say how many runs are done and which are still to do; nothing
        is trained, locked or written.
    scheduler : None or str
        ``"local"``, ``"local:N"`` or a Dask scheduler's address: the runs
        go to that Dask cluster (:mod:`.cluster`; needs the ``dask``
        extra), with ``jobs`` left at 1.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    if scheduler is not None:
        from . import cluster  # Dask itself is imported only when the runs go to it

        scheduler = cluster.parse_scheduler(scheduler)
        if jobs != 1:
            raise ValueError(f"jobs (--jobs) is for the local runner: with a scheduler the cluster's workers run "
                             f"the runs (local:N starts N of them), got jobs={jobs}")
        if not dry_run:
            cluster.require_dask()
    if say is None:
        # flushed at once: progress must show up in a log file as it happens
        say = functools.partial(print, flush=True)
    specs = targets.grid(target, runs, fast, datasets, levels)
    data_options = dict(data_options or {})
    result_options = {k: v for k, v in data_options.items() if k != "root" and v is not None}
    for spec in specs:
        if result_options:
            spec["data"] = result_options
    results_dir = pathlib.Path(results_dir)
    log_path = results_dir / runlog.FILE_NAME
    if dry_run:
        todo, _ = _plan(target, specs, log_path, say, jobs=1, scheduler=scheduler)
        for key in list(todo)[:DRY_RUN_SHOWN]:
            say(f"  to do: {key}")
        if len(todo) > DRY_RUN_SHOWN:
            say(f"  ... and {len(todo) - DRY_RUN_SHOWN} more")
        return 0, 0
    # The lock comes before the reading: a second writer that started in
    # between would otherwise redo the runs the first one records.
    with runlog.exclusive(results_dir):
        todo, already = _plan(target, specs, log_path, say, jobs, scheduler)
        if not todo:
            return 0, 0
        with runlog.open_for_append(log_path) as stream:
            return _run_all(todo, len(specs), already, jobs, data_options, results_dir, stream, say, scheduler)


def _plan(target, specs, log_path, say, jobs, scheduler=None):
    """The runs of ``specs`` not yet in ``log_path`` (``{key: spec}``), and how many are; said as it is."""
    done, _, notes = runlog.read_runs(log_path)
    for note in notes:
        say(note)
    keys = [targets.run_key(spec) for spec in specs]
    todo = {key: spec for key, spec in zip(keys, specs) if key not in done}
    already = sum(key in done for key in keys)
    where = f" on {scheduler.describe()}" if scheduler is not None else f" on {jobs} workers" if jobs > 1 else ""
    say(f"{target}: {len(specs)} runs, {already} already in {log_path}, {len(todo)} to do" + (where if todo else ""))
    return todo, already


def _run_all(todo, n_specs, already, jobs, data_options, results_dir, stream, say, scheduler=None):
    """Run ``todo`` (``{key: spec}``), appending each record to ``stream`` as it finishes; (done, failed)."""
    timer = time.perf_counter()
    finished = failed = 0

    def record_done(key, record=None, error=None, where=""):
        """Append ``record``, or report ``error`` (an exception or its text) and ``where`` it happened."""
        nonlocal finished, failed
        finished += 1
        elapsed = time.perf_counter() - timer
        eta = elapsed / finished * (len(todo) - finished)
        if error is None:
            runlog.append_run(stream, record)
            what = f"test {100 * record['test_accuracy']:.2f} % ({record['wall_s']:.0f} s)"
        else:
            failed += 1
            what = f"FAILED{where}: " + (error if isinstance(error, str) else f"{type(error).__name__}: {error}")
        say(f"[{already + finished}/{n_specs}] {key}: {what}; elapsed {duration(elapsed)}, ETA {duration(eta)}")

    if scheduler is not None:
        from . import cluster

        # a LocalCluster's workers share this machine's cores; another worker shares its own among its threads
        blas_threads = None if scheduler.address else worker_blas_threads(scheduler.local_workers)
        results_dir = pathlib.Path(results_dir).resolve()  # the workers' working folders are not this one
        task = functools.partial(dask_task, data_options=data_options, results_dir=str(results_dir),
                                 blas_threads=blas_threads)
        cluster.run(todo, scheduler, task, results_dir, record_done, say)
    elif jobs == 1:
        for key, spec in todo.items():
            try:
                record = execute(spec, data_options, results_dir)
            except RUN_ERRORS as error:
                record_done(key, error=error)
                continue
            record_done(key, record)
    else:
        _run_parallel(todo, jobs, data_options, results_dir, record_done)
    return finished - failed, failed


def worker_blas_threads(jobs):
    """BLAS threads per worker process: the cores shared out among ``jobs`` workers, at least one."""
    return max(1, (os.cpu_count() or 1) // jobs)


def start_worker(blas_threads):
    """Set up a worker process before its first run: freed memory kept, BLAS on ``blas_threads`` threads.

    NumPy and its BLAS are loaded by then (unpickling this function imports
    this module), and OpenBLAS takes a thread count set after loading for
    every later call, so the limit holds for the worker's whole life.  A
    count the user set in the environment wins (:func:`pynncomp._threads.limit_blas_threads`).
    """
    keep_freed_memory()
    limit_blas_threads(blas_threads)


def _run_parallel(unique, jobs, data_options, results_dir, record_done):
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=start_worker,
                                                initargs=(worker_blas_threads(jobs),)) as pool:
        futures = {pool.submit(execute, spec, data_options, str(results_dir)): key
                   for key, spec in unique.items()}
        try:
            for future in concurrent.futures.as_completed(futures):
                error = future.exception()
                if isinstance(error, concurrent.futures.process.BrokenProcessPool):
                    raise WorkerDied(
                        "a worker process died (killed, or out of memory) and took the runs in progress "
                        "with it; every run finished before is saved: start the same command again to "
                        "go on"
                    ) from None
                if error is not None and not isinstance(error, RUN_ERRORS):
                    raise error
                record_done(futures[future], None if error else future.result(), error)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


_DASK_WORKER_STARTED = []
_DASK_WORKER_START = threading.Lock()


def dask_task(spec, data_options, results_dir, blas_threads):
    """One run as a task on a Dask worker (:mod:`.cluster`): ``{"record", "models", "worker"}``.

    Before its first run the worker process is set up as a local worker is
    (:func:`start_worker`), its BLAS on ``blas_threads`` threads (None: its
    cores shared among its Dask threads).  A model the run keeps is saved
    in a scratch folder and returned as ``models``, ``{model_file: bytes}``,
    for the client to write.  A run's own error (:data:`RUN_ERRORS`) is
    returned as ``{"error": text, "worker": address}`` rather than raised,
    so that Dask does not try again what would fail again.
    """
    from distributed import get_worker

    worker = get_worker()
    with _DASK_WORKER_START:
        if not _DASK_WORKER_STARTED:
            start_worker(blas_threads or worker_blas_threads(worker.state.nthreads))
            _DASK_WORKER_STARTED.append(True)
    try:
        with tempfile.TemporaryDirectory(prefix="pynncomp-models-") as scratch:
            record = execute(spec, data_options, results_dir, models_dir=scratch)
            models = {}
            if record.get("model_file"):
                models[record["model_file"]] = (pathlib.Path(scratch) / record["model_file"]).read_bytes()
    except RUN_ERRORS as error:
        return {"error": f"{type(error).__name__}: {error}", "worker": worker.address}
    return {"record": record, "models": models, "worker": worker.address}
