"""Install pynncomp and compile its C core with cffi (out-of-line API mode).

The build script is csrc/build_ffi.py; its extension is optional, so where no
C compiler is present the install still succeeds and pynncomp uses its NumPy
kernels (``pynncomp info`` tells which backend is active).
"""
import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).resolve().parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "pynncomp" / "__init__.py").read_text()).group(1)

setup(
    name="pynncomp",
    version=VERSION,
    description="Classic neural-network compression (HashedNet, OBD, magnitude pruning) "
    "with explicit NumPy forward/backward passes and a small C core",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["pynncomp", "pynncomp.*"]),
    setup_requires=["cffi>=1.15"],
    install_requires=["numpy>=1.22", "cffi>=1.15", "scipy>=1.8", "matplotlib>=3.5", "threadpoolctl>=3.1"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6"],
        # pynncomp reproduce --scheduler: a target's runs on a Dask cluster
        "dask": ["dask[distributed]>=2023.1"],
        # the course's lessons as notebooks: jupytext opens the percent-format scripts in Jupyter
        "course": ["jupyterlab>=4", "jupytext>=1.14"],
    },
    cffi_modules=["csrc/build_ffi.py:ffibuilder"],
    entry_points={"console_scripts": ["pynncomp = pynncomp.__main__:main"]},
)
