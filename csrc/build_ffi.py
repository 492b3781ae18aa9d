"""cffi build script (out-of-line API mode) for the pynncomp C core.

Named in setup.py as ``cffi_modules=["csrc/build_ffi.py:ffibuilder"]``, so
``pip install .`` and ``pip install -e .`` compile it into the extension
module ``pynncomp._pynncomp_c``.  The C declarations are read from
``csrc/pynncomp.h``, the single declaration of the C API: its preprocessor
lines are dropped (cdef does not take them) and the rest goes to ``cdef``.

The extension is marked optional: where no compiler is present the install
still succeeds and pynncomp runs its NumPy kernels (see pynncomp/kernels).

Run directly (``python csrc/build_ffi.py``) to compile in place for a quick
experiment.
"""
import pathlib

from cffi import FFI

CSRC = pathlib.Path(__file__).resolve().parent
HEADER = CSRC / "pynncomp.h"


def cdef_text(header=HEADER):
    """The header without its preprocessor lines, as cffi's cdef wants it."""
    lines = header.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "pynncomp._pynncomp_c",
    '#include "pynncomp.h"',
    # Relative paths: setuptools wants sources inside the project tree.
    sources=["csrc/pynncomp.c"],
    include_dirs=["csrc"],
    depends=["csrc/pynncomp.h", "csrc/kernels_real.h"],
    # -O3 for the inner loops; no -ffast-math and no contraction of a*b + c
    # into a fused multiply-add, so every sum keeps IEEE semantics in the
    # order written and the C results stay comparable with the NumPy twins
    # (and bit-identical between the row and block paths of a kernel).
    extra_compile_args=["-O3", "-std=c99", "-ffp-contract=off"],
    optional=True,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
