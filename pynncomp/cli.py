"""The ``pynncomp`` command line.

``pynncomp info``                 version, kernel backend and kernels, as JSON
``pynncomp data info``            where MNIST is looked for and what is there
``pynncomp data preview NAME``    a grid of a data set's first training images

Errors a user can cause (an unknown data set, missing or corrupt data, an
unwritable output) print a message to stderr and exit with status 2.
"""
import argparse
import json
import os
import platform
import sys

import numpy as np

from . import __version__, data, kernels
from .data import mnist, sources, splits


def info():
    """What this installation is: version, kernel backend, kernels."""
    return {
        "version": __version__,
        "backend": kernels.ACTIVE_BACKEND,
        "c_core_built": kernels.c_available(),
        "kernels": list(kernels.KERNELS),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def _cmd_info(args):
    print(json.dumps(info(), indent=2 if args.pretty else None))
    return 0


def _cmd_data_info(args):
    report = sources.survey(mnist.MD5, mnist.SUBDIR, args.root)
    width = max(len(name) for name in mnist.MD5)
    print("MNIST files, in the order searched (the first copy found is used):")
    for origin, directory, states in report:
        print(f"  {origin}: {directory}")
        for name, path, state in states:
            print(f"    {name:<{width}}  {state}" + (f"  [{path}]" if path is not None else ""))
    if not os.environ.get(sources.DATA_ENV):
        print(f"  ({sources.DATA_ENV} is not set)")
    first_copies = {}
    for _, _, states in report:
        for name, path, state in states:
            if path is not None:
                first_copies.setdefault(name, state)
    absent = [name for name in mnist.MD5 if name not in first_copies]
    unusable = [f"{name} ({state})" for name, state in first_copies.items() if state != "ok"]
    if unusable:
        print("MNIST is not usable: the first copy of " + "; ".join(unusable) + " fails; delete or replace it.")
    elif absent:
        print(f"MNIST is incomplete: {', '.join(absent)} will be downloaded on first use.")
    else:
        print("MNIST is ready: the first copy of each file is verified.")
    print(f"Download mirrors (${mnist.MIRRORS_ENV} overrides): {', '.join(mnist.mirror_list())}")
    print(f"User cache: {sources.user_cache_dir()} ($XDG_CACHE_HOME moves it)")
    from .data import variants  # on demand: it imports SciPy and matplotlib

    cached = variants.cached_variants(sources.user_cache_dir())
    print("Variants in the cache:" + ("" if cached else " none"))
    for entry in cached:
        seed = "" if entry["seed"] is None else f", seed {entry['seed']}"
        state = "ok" if entry["manifest_ok"] else f"will be remade: {entry['problem']}"
        print(f"  {entry['name']} ({entry['source']}{seed}, {entry['n_images']} images) {state}  [{entry['path']}]")
    return 0


def _cmd_data_preview(args):
    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    dataset = data.load(args.name, args.split, root=args.root, val_size=0)
    from .data import preview  # on demand: it imports matplotlib

    images, labels = dataset.X_train[: args.n], dataset.y_train[: args.n]
    title = f"{args.name}, {args.split} split: first {len(images)} training images"
    preview.save_grid(images, labels, args.out, title)
    print(f"wrote {args.out}: {title}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pynncomp",
        description="Classic neural-network compression, every equation explicit.",
    )
    parser.add_argument("--version", action="version", version=f"pynncomp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_info = commands.add_parser("info", help="print version, kernel backend and kernels as JSON")
    p_info.add_argument("--pretty", action="store_true", help="indent the JSON")
    p_info.set_defaults(run=_cmd_info)

    p_data = commands.add_parser("data", help="MNIST and its variants: what is where, previews")
    p_data.set_defaults(parser=p_data)
    data_commands = p_data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    root_help = "directory holding mnist/*.gz, searched before $PYNNCOMP_DATA and the user cache"
    p_data_info = data_commands.add_parser(
        "info", help="the directories searched, the state of each MNIST file, the cache"
    )
    p_data_info.add_argument("--root", metavar="DIR", help=root_help)
    p_data_info.set_defaults(run=_cmd_data_info)
    p_preview = data_commands.add_parser("preview", help="save a grid of a data set's first training images")
    p_preview.add_argument("name", metavar="NAME", choices=data.DATASETS, help=f"one of {', '.join(data.DATASETS)}")
    p_preview.add_argument("--out", metavar="FILE.png", required=True, help="image file to write")
    p_preview.add_argument("--n", type=int, default=32, help="number of images (default 32)")
    p_preview.add_argument("--split", choices=splits.SPLITS, default="paper", help="default paper")
    p_preview.add_argument("--root", metavar="DIR", help=root_help)
    p_preview.set_defaults(run=_cmd_data_preview)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        getattr(args, "parser", parser).print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except (ValueError, OSError) as err:
        # OSError covers data.DataNotFoundError and unwritable outputs.
        print(f"pynncomp: error: {err}", file=sys.stderr)
        return 2
