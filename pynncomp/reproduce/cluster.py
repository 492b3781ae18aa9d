"""``pynncomp reproduce --scheduler``: a target's runs on a Dask cluster.

The runs of a grid are independent, so a cluster's scheduler can hand them
out as well as the local runner's process pool does, to as many machines as
it has (a lab server started with ``dask scheduler`` and ``dask worker``,
Slurm through dask-jobqueue, Kubernetes through dask-kubernetes).
``--scheduler ADDRESS`` sends the runs to the existing cluster whose
scheduler listens there; ``--scheduler local[:N]`` starts a ``LocalCluster``
of N single-threaded worker processes on this machine (N: the cores).
Dask is an optional extra (``pip install "pynncomp[dask]"``); nothing here
imports it until a scheduler is asked for.

What stays as with the local runner (:mod:`.runner`):

* this process (the *client*) is the only writer of ``runs.jsonl``: it
  appends each record, through :mod:`.runlog`, as its run comes back; a run
  already in the file is never submitted, so a killed client loses at most
  the runs in flight and the same command goes on;
* each run is one Dask task, :func:`.runner.dask_task`, whose key holds
  its run key (and a token of this invocation, so that a task of an
  earlier, killed client is never taken for this one's);
* a worker loads the data itself, from its own ``PYNNCOMP_DATA`` or user
  cache, checksums verified, and generates the variants as any process
  does (:func:`pynncomp.data.load`); a run that fails there (MNIST not
  found, training diverged) is reported with its key, its error and the
  worker's address, and the other runs go on;
* each worker process limits its BLAS before its first run as a local
  worker does (:func:`.runner.start_worker`): to ``cores // N`` threads in
  a local cluster, to ``cores // nthreads`` on another worker; a count set
  in the worker's environment wins, and Dask's nanny starts its workers
  with ``OPENBLAS_NUM_THREADS=1`` (``distributed.nanny.pre-spawn-environ``).

When a worker dies in the middle of a run, the scheduler gives the run to
another worker, up to its ``distributed.scheduler.allowed-failures`` times
(3 by default); a run whose workers died once more than that is reported
as failed (``KilledWorker``) and the other runs go on.  A run whose task raises an error that is not
one of the run's own (those are returned, not raised) is tried again
:data:`RETRIES` times, then stops the command with its traceback, as a bug
does in the local runner.  The client records a run key once, whatever the
scheduler does.

A model a run keeps (``fig6``, the Han et al. targets) is saved by the worker
in a scratch folder and sent back, and the client writes it under the
results folder before the run's record, so the workers need not share that
folder.
"""
import dataclasses
import importlib.util
import logging
import os
import pathlib
import uuid

from .._files import atomic_write

EXTRA = 'pip install "pynncomp[dask]"'  # or: pip install "dask[distributed]"
RETRIES = 2  # more tries of a task that raised an unexpected error (a worker's death is the scheduler's)
CONNECT_TIMEOUT = 20.0  # seconds to reach the scheduler at --scheduler ADDRESS


@dataclasses.dataclass(frozen=True)
class Scheduler:
    """Where the runs go: ``address`` of an existing scheduler, or ``local_workers`` processes of a LocalCluster."""

    address: str = None
    local_workers: int = None

    def describe(self):
        if self.address is None:
            return f"a local Dask cluster of {self.local_workers} worker processes"
        return f"the Dask cluster at {self.address}"


def parse_scheduler(text):
    """The :class:`Scheduler` of ``--scheduler TEXT``: ``local``, ``local:N`` or a scheduler address.

    Only the form is checked here (no Dask needed); an address is checked
    by connecting to it (:func:`run`).
    """
    if not isinstance(text, str):
        raise TypeError(f"scheduler must be a str, got {type(text).__name__} {text!r}")
    problem = (f"scheduler must be local, local:N (N >= 1) or a Dask scheduler's address such as "
               f"tcp://host:8786, got {text!r}")
    if not text or any(c.isspace() for c in text):
        raise ValueError(problem)
    if text == "local":
        return Scheduler(local_workers=os.cpu_count() or 1)
    name, _, count = text.partition(":")
    if name == "local":
        if not count.isdigit() or int(count) < 1:
            raise ValueError(problem)
        return Scheduler(local_workers=int(count))
    return Scheduler(address=text)


def require_dask():
    """``distributed``, or a ValueError saying how to install it."""
    try:
        import distributed
    except ImportError as error:
        raise ValueError(
            f"--scheduler needs Dask's distributed scheduler, which is not installed ({error}); "
            f"install the extra: {EXTRA}"
        ) from None
    return distributed


def run(todo, scheduler, task, results_dir, record_done, say):
    """Run ``todo`` (``{run key: spec}``) on the cluster of ``scheduler``, calling ``record_done`` as runs end.

    ``task(spec)`` runs one run on a worker (a partial of
    :func:`.runner.dask_task`) and returns what it made; the models it
    returns are written under ``results_dir``.  ``record_done(key,
    record=None, error=None, where="")`` is the local runner's: it appends
    the record to runs.jsonl and prints the progress.
    """
    distributed = require_dask()
    cluster = client = None
    try:
        if scheduler.address is None:
            cluster = distributed.LocalCluster(n_workers=scheduler.local_workers, threads_per_worker=1,
                                               processes=True)
            client = distributed.Client(cluster, set_as_default=False)
        else:
            client = _connect(distributed, scheduler.address)
        _say_cluster(client, say)
        _submit_and_record(distributed, client, todo, task, pathlib.Path(results_dir), record_done, say)
        if cluster is not None:
            client.run(_closing_quietly)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _closing_quietly():
    """Run on a LocalCluster's workers before it closes: a heartbeat cut by the closing is no error to show."""
    logging.getLogger("distributed.worker").setLevel(logging.CRITICAL)


def _connect(distributed, address):
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except ValueError as error:
        raise ValueError(f"scheduler {address!r} is not an address Dask can connect to: {error}") from None
    except (OSError, TimeoutError) as error:
        raise OSError(
            f"cannot reach the Dask scheduler at {address} ({type(error).__name__}: {error}); start one "
            "(dask scheduler, then dask worker ADDRESS on each machine), or use --scheduler local[:N]"
        ) from None


def _say_cluster(client, say):
    threads = client.nthreads()
    say(f"Dask scheduler {client.scheduler.address}: {len(threads)} workers, {sum(threads.values())} threads")
    if "dashboard" not in client.scheduler_info().get("services", {}):
        say("Dask dashboard: none (the scheduler runs without one)")
    elif importlib.util.find_spec("bokeh") is None:
        say(f"Dask dashboard: {client.dashboard_link} (its pages need bokeh, not installed here: pip install bokeh)")
    else:
        say(f"Dask dashboard: {client.dashboard_link}")


def _submit_and_record(distributed, client, todo, task, results_dir, record_done, say):
    # one token per invocation: a task left on the scheduler by an earlier client is not this one's
    name = f"pynncomp-run-{uuid.uuid4().hex[:8]}"
    pending = {}
    for key, spec in todo.items():
        future = client.submit(task, spec, key=(name, key), retries=RETRIES, pure=False)
        pending[future] = key
    recorded = set()
    try:
        for future in distributed.as_completed(list(pending), loop=client.loop):
            key = pending.pop(future)
            if key in recorded:  # a second completion of one run: the first is the record
                say(f"{key}: came back twice from the cluster; recorded once")
                continue
            if future.status == "error":
                error = future.exception()
                if not isinstance(error, distributed.KilledWorker):
                    raise error
                recorded.add(key)
                record_done(key, error=f"KilledWorker: the workers running it died {error.allowed_failures + 1} "
                            "times (killed, or out of memory)", where=f" on {error.last_worker.address}")
            elif future.status == "cancelled":
                raise OSError(f"the Dask scheduler dropped the run {key} (it restarted, or lost this client); "
                              "every run finished before is saved: start the same command again to go on")
            else:
                outcome = future.result()
                recorded.add(key)
                if "error" in outcome:
                    record_done(key, error=outcome["error"], where=f" on {outcome['worker']}")
                else:
                    for relative, content in outcome["models"].items():
                        with atomic_write(results_dir / relative) as stream:
                            stream.write(content)
                    record_done(key, outcome["record"])
            future.release()
    except BaseException:
        client.cancel(list(pending))
        raise

