"""Where data files come from: local directories first, then mirrors, always verified.

A file ``NAME`` (an IDX file, stored gzip-compressed as ``NAME.gz`` or not)
with a known MD5 is looked for in these directories, in this order; the
first copy found is the one used:

1. ``root``, the directory the caller names (``--root`` on the command line);
2. ``$PYNNCOMP_DATA``;
3. the user cache, ``$XDG_CACHE_HOME/pynncomp`` or ``~/.cache/pynncomp``.

Inside a directory ``DIR`` the candidates are, in this order,
``DIR/SUBDIR/NAME.gz``, ``DIR/SUBDIR/NAME``, ``DIR/NAME.gz`` and ``DIR/NAME``
(``SUBDIR`` is e.g. ``mnist``), so a folder of downloaded files works as
``root`` whether or not it is called ``mnist`` and whether or not the files
were un-gzipped.  When no directory has the file and downloads are allowed,
the mirrors are tried in order and the file is written into the user cache
(``CACHE/SUBDIR/NAME.gz``).

Every copy, local or downloaded, is verified: the MD5 of its *decompressed*
bytes must equal the known one (so a re-compressed gzip is accepted, a
different content never is).  A copy that fails is an error naming the file
and both checksums, never skipped silently.  A download is verified in
memory before anything is written, then written to a temporary file in the
cache and renamed (``os.replace``), so the cache never holds a partial or
unverified file.  When a file is found nowhere, one
:class:`DataNotFoundError` lists the files, the directories searched and why
each mirror failed.
"""
import hashlib
import os
import pathlib
import urllib.error
import urllib.request
from http.client import HTTPException

from .._files import atomic_write
from .idx import decompress, read_idx_bytes

DATA_ENV = "PYNNCOMP_DATA"
DEFAULT_TIMEOUT = 10.0


class DataNotFoundError(FileNotFoundError):
    """A data file is in none of the directories searched and could not be downloaded."""


class ChecksumError(ValueError):
    """A data file's content is not the expected one (its MD5 differs)."""


def user_cache_dir():
    """The user cache of pynncomp: ``$XDG_CACHE_HOME/pynncomp``, else ``~/.cache/pynncomp``.

    Returns
    -------
    pathlib.Path
        The directory (it may not exist yet).
    """
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "pynncomp"


def search_dirs(root=None):
    """The directories searched for data files, in order.

    Parameters
    ----------
    root : None, str or os.PathLike
        A directory named by the caller; searched first.  It must exist.
        A leading ``~`` (here and in ``$PYNNCOMP_DATA``) is the home directory.

    Returns
    -------
    list of (str, pathlib.Path)
        ``(origin, directory)`` with origin ``"root"``, ``"PYNNCOMP_DATA"``
        or ``"user cache"``; ``PYNNCOMP_DATA`` only when it is set, and a
        directory listed twice is kept at its first place only.

    Raises
    ------
    ValueError
        When ``root`` is given but is not an existing directory.
    """
    dirs = []
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be None, a str or an os.PathLike, got {type(root).__name__} {root!r}")
        root = pathlib.Path(root).expanduser()
        if not root.is_dir():
            raise ValueError(f"root must be an existing directory, got {str(root)!r}")
        dirs.append(("root", root))
    if os.environ.get(DATA_ENV):
        dirs.append((DATA_ENV, pathlib.Path(os.environ[DATA_ENV]).expanduser()))
    dirs.append(("user cache", user_cache_dir()))
    unique, seen = [], set()
    for origin, directory in dirs:
        key = os.path.abspath(directory)
        if key not in seen:
            seen.add(key)
            unique.append((origin, directory))
    return unique


def candidate_paths(directory, subdir, name):
    """Where ``name`` may lie inside ``directory``, in the order tried.

    Returns
    -------
    list of pathlib.Path
        ``directory/subdir/name.gz``, ``directory/subdir/name``,
        ``directory/name.gz``, ``directory/name``.
    """
    directory = pathlib.Path(directory)
    return [directory / subdir / f"{name}.gz", directory / subdir / name, directory / f"{name}.gz", directory / name]


def check_md5(data, md5, name):
    """Raise :class:`ChecksumError` naming ``name`` unless the MD5 of ``data`` is ``md5`` (hex)."""
    # MD5 identifies the published files here; it protects against damage, not attacks
    found = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if found != md5:
        raise ChecksumError(
            f"{name}: MD5 of the decompressed content is {found}, expected {md5} "
            "(a damaged or different file: delete it and fetch it again)"
        )


def read_verified(path, md5):
    """The decompressed bytes of the file ``path``, checked against ``md5``.

    Raises
    ------
    ValueError
        (:class:`ChecksumError` for a wrong MD5) naming ``path``.
    """
    data = read_idx_bytes(path)
    check_md5(data, md5, str(path))
    return data


def find_local(name, subdir, dirs):
    """The first copy of ``name`` in ``dirs`` (as listed by :func:`search_dirs`).

    Returns
    -------
    (str, pathlib.Path) or None
        ``(origin, path)`` of the first candidate that exists.
    """
    for origin, directory in dirs:
        for path in candidate_paths(directory, subdir, name):
            if path.is_file():
                return origin, path
    return None


def _fetch_url(url, md5, timeout):
    """The raw file at ``url`` and its decompressed bytes, verified in memory."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        raw = response.read()
    data = decompress(raw, url)
    check_md5(data, md5, url)
    return raw, data


def _reason(err):
    """One line saying why fetching a URL failed."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _is_unreachable(err):
    """Whether ``err`` says the mirror itself cannot be reached (not just this file)."""
    if isinstance(err, urllib.error.HTTPError):
        return False
    if isinstance(err, urllib.error.URLError):
        return not isinstance(err.reason, FileNotFoundError)
    return isinstance(err, OSError)


def download(name, md5, subdir, mirrors, timeout=DEFAULT_TIMEOUT, unreachable=None):
    """Fetch ``name.gz`` from the first mirror that has a verified copy; cache it.

    Parameters
    ----------
    name : str
        The file, without ``.gz``.
    md5 : str
        Expected MD5 of the decompressed content.
    subdir : str
        The cache subdirectory the file goes to.
    mirrors : sequence of str
        Base URLs (``https://``, ``http://`` or ``file://``), tried in order.
    timeout : float
        Seconds to wait for a mirror before giving up on it.
    unreachable : set or None
        Mirrors that could not be reached for an earlier file: they are
        skipped, and a mirror found unreachable now is added (so an offline
        machine waits once per mirror, not once per file and mirror).

    Returns
    -------
    (pathlib.Path, str, bytes, list of str)
        Where the file was written, the URL it came from and its
        decompressed bytes; or ``(None, None, None, failures)`` when every
        mirror failed, ``failures`` saying why, one line per mirror tried.
    """
    unreachable = set() if unreachable is None else unreachable
    destination = user_cache_dir() / subdir / f"{name}.gz"
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{name}.gz"
        if mirror in unreachable:
            continue
        try:
            raw, data = _fetch_url(url, md5, timeout)
        except (OSError, HTTPException) as err:
            # urllib.error.URLError and HTTPError are OSErrors
            if _is_unreachable(err):
                unreachable.add(mirror)
                failures.append(f"{url}: {_reason(err)} (mirror not tried again)")
            else:
                failures.append(f"{url}: {_reason(err)}")
            continue
        except ValueError as err:
            failures.append(str(err))
            continue
        try:
            with atomic_write(destination) as stream:
                stream.write(raw)
        except OSError as err:
            failures.append(f"{url}: downloaded and verified, but cannot be written to {destination} ({err})")
            break
        return destination, url, data, failures
    return None, None, None, failures


def fetch(files, subdir, label, root=None, download_missing=True, mirrors=(), timeout=DEFAULT_TIMEOUT):
    """The verified decompressed bytes of every file in ``files``.

    Parameters
    ----------
    files : dict of str to str
        ``{name: md5}``: file names (without ``.gz``) and the MD5 of their
        decompressed content.
    subdir : str
        Subdirectory of each searched directory (and of the cache), e.g. ``"mnist"``.
    label : str
        The data set's name in error messages, e.g. ``"MNIST"``.
    root : None, str or os.PathLike
        Searched first (see :func:`search_dirs`).
    download_missing : bool
        Whether a file found in no directory is downloaded.
    mirrors : sequence of str
        Base URLs for downloads, tried in order.
    timeout : float
        Seconds before a silent mirror is given up.

    Returns
    -------
    dict of str to (bytes, dict)
        ``{name: (content, provenance)}``, provenance giving ``path``,
        ``origin`` (``"root"``, ``"PYNNCOMP_DATA"``, ``"user cache"`` or
        ``"download"``), ``md5`` and, for a download, ``url``.

    Raises
    ------
    ValueError
        When a copy found is corrupt or has the wrong MD5 (naming it).
    DataNotFoundError
        When some file is nowhere and could not be downloaded.
    """
    dirs = search_dirs(root)
    found, failures, unreachable = {}, [], set()
    for name, md5 in files.items():
        local = find_local(name, subdir, dirs)
        if local is not None:
            origin, path = local
            found[name] = (read_verified(path, md5), {"path": str(path), "origin": origin, "md5": md5})
        elif download_missing:
            path, url, data, tried = download(name, md5, subdir, mirrors, timeout, unreachable)
            failures.extend(tried)
            if path is not None:
                found[name] = (data, {"path": str(path), "origin": "download", "url": url, "md5": md5})
    missing = [name for name in files if name not in found]
    if missing:
        raise DataNotFoundError(not_found_message(label, subdir, files, missing, dirs, download_missing, failures))
    return found


def not_found_message(label, subdir, files, missing, dirs, download_missing, failures):
    """The text of :class:`DataNotFoundError`: the files, where they were sought, why downloads failed."""
    first = f"{label} not found: {', '.join(f'{name}.gz' for name in missing)} in no directory searched"
    if download_missing:
        first += " and not downloadable"
    first += ". " + _data_env_advice(subdir) + (
        ", or connect to the internet." if download_missing else ", or allow downloads (download=True)."
    )
    lines = [
        first,
        f"  files needed: {', '.join(f'{name}.gz' for name in files)}",
        f"  directories searched, each as DIR/{subdir}/NAME.gz, DIR/{subdir}/NAME, DIR/NAME.gz, DIR/NAME:",
    ]
    lines += [f"    {origin}: {directory}" + directory_state(directory, origin) for origin, directory in dirs]
    if not os.environ.get(DATA_ENV):
        lines.append(f"    ({DATA_ENV} is not set)")
    if not download_missing:
        lines.append("  downloads: disabled (download=False)")
    elif failures:
        lines.append("  downloads tried:")
        lines += [f"    {failure}" for failure in failures]
    else:
        lines.append("  downloads: no mirror given")
    return "\n".join(lines)


def directory_state(directory, origin):
    """`` (does not exist)`` or `` (is a file, not a directory)`` after a directory the user named; else empty.

    The user cache is made on the first download, so its absence is normal
    and not shown.
    """
    if directory.is_dir() or origin == "user cache":
        return ""
    return " (is a file, not a directory)" if directory.exists() else " (does not exist)"


def _data_env_advice(subdir):
    """What to do about ``$PYNNCOMP_DATA``, given how it is set now."""
    value = os.environ.get(DATA_ENV)
    if not value:
        advice = f"Set {DATA_ENV} to a directory holding {subdir}/NAME.gz"
    else:
        directory = pathlib.Path(value).expanduser()
        if not directory.exists():
            problem = "which does not exist"
        elif not directory.is_dir():
            problem = "which is a file, not a directory"
        else:
            problem = f"which holds no usable {subdir}/NAME.gz"
        advice = f"{DATA_ENV} is set to {value!r}, {problem}: point it to a directory holding {subdir}/NAME.gz"
    return advice + " (or pass root=, --root on the command line)"


def survey(files, subdir, root=None):
    """For each searched directory, the state of each file in it.

    Parameters
    ----------
    files : dict of str to str
        ``{name: md5}`` as for :func:`fetch`.
    subdir : str
    root : None, str or os.PathLike

    Returns
    -------
    list of (str, pathlib.Path, list of (str, pathlib.Path or None, str))
        ``(origin, directory, [(name, path, state), ...])``: ``path`` is the
        first candidate that exists (None when none does) and ``state`` is
        ``"ok"``, ``"missing"`` or why the copy is unusable.
    """
    report = []
    for origin, directory in search_dirs(root):
        states = []
        for name, md5 in files.items():
            local = find_local(name, subdir, [(origin, directory)])
            if local is None:
                states.append((name, None, "missing"))
                continue
            path = local[1]
            try:
                read_verified(path, md5)
            except ValueError as err:
                states.append((name, path, str(err).replace(f"{path}: ", "", 1)))
            else:
                states.append((name, path, "ok"))
        report.append((origin, directory, states))
    return report


def verdict(report, files, label):
    """One sentence on whether the files of a :func:`survey` can be used.

    The first copy found of each file is the one a load uses: the data are
    ready when each of those is verified, not usable when one fails its
    check (it is never skipped for a later copy), and incomplete when a
    file is found nowhere (it is downloaded on first use).
    """
    first_copies = {}
    for _, _, states in report:
        for name, path, state in states:
            if path is not None:
                first_copies.setdefault(name, state)
    absent = [name for name in files if name not in first_copies]
    unusable = [f"{name} ({state})" for name, state in first_copies.items() if state != "ok"]
    if unusable:
        return f"{label} is not usable: the first copy of " + "; ".join(unusable) + " fails; delete or replace it."
    if absent:
        return f"{label} is incomplete: {', '.join(absent)} will be downloaded on first use."
    return f"{label} is ready: the first copy of each file is verified."
