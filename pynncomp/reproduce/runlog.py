"""``runs.jsonl``: one finished run per line, appended, flushed and synced.

The file is the reproduction's only state.  A run is in it or it is not:
each record is written as one ``write`` of one line followed by ``flush``
and ``os.fsync``, by the parent process only, so a crash or a kill loses at
most the runs still in progress.  The one damage a crash can do is a *torn
last line* (a partial write without its newline); :func:`read_runs`
reports it, and :func:`open_for_append` cuts it off before the next append
so that it cannot glue itself to the next record.  A bad line anywhere else
is not something a crash makes: it is refused with its line number, and
nothing is deleted.  A run key on two lines (two writers that did not
share the lock of :func:`exclusive`, or files joined by hand) is reported,
and its first record used.
"""
import contextlib
import json
import os
import pathlib

FILE_NAME = "runs.jsonl"


class RunLogError(ValueError):
    """runs.jsonl is damaged in a way a crash cannot explain."""


def read_runs(path):
    """Records of ``path`` by run key, the byte length of its intact part, and what was wrong with it.

    Returns
    -------
    records : dict ``{run_key: record}``
        A key found on several lines keeps its first record (the later
        ones are reported in ``notes``).
    intact : int
        Bytes up to the end of the last complete line.
    notes : list of str
        A torn last line (ignored; its run will be redone) and run keys
        found more than once; empty when the file is whole.

    Raises
    ------
    RunLogError
        A line other than the last is not a run record, or a record's
        ``run_key`` or ``test_accuracy`` is not what every tool reading
        the file needs (a str; a number in [0, 1]).
    """
    path = pathlib.Path(path)
    if not path.exists():
        return {}, 0, []
    content = path.read_bytes()
    records, intact, notes, first_line, repeated = {}, 0, [], {}, {}
    lines = content.split(b"\n")
    for number, line in enumerate(lines, start=1):
        is_last = number == len(lines)
        if is_last and line == b"":
            break
        try:
            record = json.loads(line)
            key = record["run_key"]
        except (ValueError, KeyError, TypeError) as error:
            if is_last:  # no newline after it: a write cut short
                notes.append(f"{path}: line {number} is incomplete ({len(line)} bytes, a write cut short); "
                             "it is ignored and its run will be redone")
                break
            raise RunLogError(
                f"{path}: line {number} is not a run record ({type(error).__name__}: {error}); "
                "fix or remove that line (a crash only ever damages the last line)"
            ) from None
        _check_record(record, path, number)
        if key in records:
            repeated.setdefault(key, [first_line[key]]).append(number)
        else:
            records[key], first_line[key] = record, number
        intact += len(line) + (0 if is_last else 1)
    if repeated:
        shown = "; ".join(f"{key} (lines {', '.join(map(str, numbers))})" for key, numbers in list(repeated.items())[:5])
        notes.append(f"{path}: {len(repeated)} run key(s) recorded more than once, the first record of each "
                     f"is used: {shown}" + (" ..." if len(repeated) > 5 else ""))
    return records, intact, notes


def _check_record(record, path, number):
    """The fields every reader of runs.jsonl relies on; RunLogError naming the line otherwise."""
    problem = None
    if not isinstance(record.get("run_key"), str):
        problem = f"run_key must be a string, got {json.dumps(record.get('run_key'))}"
    else:
        accuracy = record.get("test_accuracy")
        if (isinstance(accuracy, bool) or not isinstance(accuracy, (int, float))
                or not 0.0 <= accuracy <= 1.0):
            problem = f"test_accuracy must be a number in [0, 1], got {json.dumps(accuracy)}"
    if problem is not None:
        raise RunLogError(f"{path}: line {number} ({record.get('run_key')!r}): {problem}; "
                          "fix or remove that line")


def read_results(results_dir, target):
    """``read_runs`` of ``results_dir/runs.jsonl`` for a report or a figure of ``target``.

    Returns ``(records, notes, path)``.  A missing file is a ValueError that
    says which command makes it.
    """
    path = pathlib.Path(results_dir) / FILE_NAME
    if not path.exists():
        raise ValueError(f"{path} does not exist: run `pynncomp reproduce {target} --results {results_dir}` first")
    records, _, notes = read_runs(path)
    return records, notes, path


@contextlib.contextmanager
def exclusive(results_dir):
    """Hold ``results_dir/runs.jsonl.lock`` for one writer at a time (``fcntl.flock``).

    Two ``pynncomp reproduce`` commands appending to one runs.jsonl could
    cut each other's torn-line repair short; the second one is refused with
    a message instead.  The lock goes with the process, however it ends.
    """
    import fcntl

    path = pathlib.Path(results_dir)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / (FILE_NAME + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLogError(
                f"another pynncomp reproduce is writing to {path / FILE_NAME}; wait for it to finish or "
                "give this one another --results folder"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def open_for_append(path):
    """Open ``path`` for appending records, first cutting off a torn last line."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _, intact, _ = read_runs(path)
    if path.exists():
        size = path.stat().st_size
        if intact < size:
            with open(path, "r+b") as stream:
                stream.truncate(intact)
        if intact and not path.read_bytes().endswith(b"\n"):
            with open(path, "ab") as stream:
                stream.write(b"\n")
    return open(path, "ab")


def append_run(stream, record):
    """Append one record as one line, then flush and fsync."""
    line = json.dumps(record, separators=(",", ":"), allow_nan=False).encode() + b"\n"
    stream.write(line)
    stream.flush()
    os.fsync(stream.fileno())
