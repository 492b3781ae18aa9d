"""The ``pynncomp`` command: ``python -m pynncomp`` and the installed script.

:func:`main` imports the command line (:mod:`pynncomp.cli`) itself, because
that import is where an unusable ``PYNNCOMP_BACKEND`` is found out (see
:class:`pynncomp.BackendError`): the user gets one line naming the variable
and the accepted values, and exit status 2, instead of a traceback.
"""
import sys

from . import BackendError


def main(argv=None):
    """Run the ``pynncomp`` command with ``argv`` (default ``sys.argv[1:]``); return its exit status."""
    try:
        from . import cli
    except BackendError as err:
        print(f"pynncomp: error: {err}", file=sys.stderr)
        return 2
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
