"""The ``pynncomp`` command line."""
import argparse
import json
import platform
import sys

import numpy as np

from . import __version__, kernels


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
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)
