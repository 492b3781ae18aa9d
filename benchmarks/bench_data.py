#!/usr/bin/env python
"""Time loading MNIST from ``$PYNNCOMP_DATA`` (target: well under 1 s).

    PYNNCOMP_DATA=/path/to/data python benchmarks/bench_data.py [--repeat 7]

What is timed
-------------
* ``first load``: ``pynncomp.data.load("mnist")`` as the first call of a
  fresh interpreter (one child process per sample; ``import
  pynncomp.data`` is timed apart).  Every load reads the four gzip files,
  decompresses them, checks their MD5 and converts the paper split to
  float32: pynncomp keeps no second, unverified copy of MNIST, so there is
  no "cached" format to read instead.  After the first sample the files are
  in the operating system's page cache, as they are on any machine that
  used them recently.
* ``again``: the same call repeated in one process.
* the stages of one load: reading the files, gunzip, MD5, IDX decoding
  (with the concatenation of the two files), and the split with the
  conversion to float32.

Medians over ``--repeat`` samples, in seconds.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from pynncomp import data
from pynncomp.data import idx, mnist, sources, splits

CHILD = """
import json, time
t0 = time.perf_counter()
from pynncomp import data
t1 = time.perf_counter()
data.load("mnist", download=False)
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1}))
"""


def first_loads(repeat):
    """Import and first-load times, one fresh interpreter per sample."""
    samples = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
        samples.append(json.loads(proc.stdout))
    return [s["import"] for s in samples], [s["load"] for s in samples]


def repeated_loads(repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        data.load("mnist", download=False)
        times.append(time.perf_counter() - start)
    return times


def stages(repeat):
    """Median seconds of each stage of one load, over ``repeat`` loads."""
    paths = {name: sources.find_local(name, mnist.SUBDIR, sources.search_dirs())[1] for name in mnist.MD5}
    timings = {"read files": [], "gunzip": [], "MD5": [], "decode IDX + concatenate": [], "split + float32": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        raw = {name: path.read_bytes() for name, path in paths.items()}
        t1 = time.perf_counter()
        content = {name: idx.decompress(raw[name], str(paths[name])) for name in raw}
        t2 = time.perf_counter()
        for name in content:
            assert hashlib.md5(content[name]).hexdigest() == mnist.MD5[name]
        t3 = time.perf_counter()
        arrays = {name: idx.decode_idx(content[name], str(paths[name])) for name in content}
        images = np.concatenate([arrays[mnist.TRAIN_IMAGES], arrays[mnist.TEST_IMAGES]])
        t4 = time.perf_counter()
        train, test = splits.paper_split()
        keep, val = splits.validation_split(len(train), 5_000, 0)
        for part in (train[keep], train[val], test):
            converted = images[part].astype(np.float32)
            converted /= 255
        t5 = time.perf_counter()
        for key, seconds in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            timings[key].append(seconds)
    return {key: statistics.median(values) for key, values in timings.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="samples per measurement (default 7)")
    args = parser.parse_args(argv)
    if not os.environ.get(sources.DATA_ENV):
        sys.exit(f"set {sources.DATA_ENV} to a directory holding mnist/*.gz")

    load_avg = os.getloadavg()[0]
    print(f"MNIST from {os.environ[sources.DATA_ENV]}; {os.cpu_count()} CPUs, load average {load_avg:.2f}; "
          f"medians of {args.repeat} samples")
    import_times, first = first_loads(args.repeat)
    again = repeated_loads(args.repeat)
    print(f"  import pynncomp.data           {statistics.median(import_times):6.3f} s")
    print(f"  first load (fresh process)     {statistics.median(first):6.3f} s   "
          f"(min {min(first):.3f}, max {max(first):.3f})")
    print(f"  again, same process            {statistics.median(again):6.3f} s   "
          f"(min {min(again):.3f}, max {max(again):.3f})")
    print("  stages of one load:")
    for stage, seconds in stages(args.repeat).items():
        print(f"    {stage:<28} {seconds:6.3f} s")
    verdict = "met" if statistics.median(first) < 1.0 else "NOT met"
    print(f"target < 1 s for a first load: {verdict}")


if __name__ == "__main__":
    main()
