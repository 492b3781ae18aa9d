"""Writing files so that no reader ever sees half of one.

Every file pynncomp writes for later (downloads, caches, figures, result
records) goes through :func:`atomic_write`: the bytes go to a temporary file
beside the target, are flushed to disk, and the temporary file is renamed
over the target (``os.replace`` is atomic on POSIX and Windows).  An error
or Ctrl-C on the way leaves the target as it was and removes the temporary.
"""
import contextlib
import os
import pathlib
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file for binary writing that becomes ``path`` on success.

    Yields a binary stream whose ``name`` is the temporary file's path (so a
    caller can check what it wrote before the rename).  The parent folder is
    created.  The final file gets the usual permissions (0666 less the umask),
    not mkstemp's private 0600.
    """
    path = pathlib.Path(path)
    with _naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
    try:
        with open(tmp, "wb") as stream:
            yield stream
            with _naming(path):
                stream.flush()
                os.fsync(stream.fileno())
        with _naming(path):
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _naming(path):
    """Re-raise an OSError of our own file operations naming ``path``, not the temporary beside it."""
    try:
        yield
    except OSError as error:
        if error.errno is None:
            raise OSError(f"cannot write {path}: {error}") from None
        raise type(error)(error.errno, f"cannot write {path}: {error.strerror}") from None


def writable_dir(path, option):
    """Make sure files can be written in the folder ``path`` (created if missing) before any work.

    Parameters
    ----------
    path : str or path-like
    option : str
        How the caller names it (``"--out"``), for the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        ``path`` is a file, cannot be created, or is not writable; the
        message names ``option`` and ``path``.
    """
    path = pathlib.Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {str(path)!r} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".pynncomp-write-check.")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ValueError(f"{option} {str(path)!r} is not a folder pynncomp can write in: "
                         f"{error.strerror or error}") from None
    return path


def writable_file(path, option, suffix=None):
    """Make sure the file ``path`` can be written (its folder is :func:`writable_dir`) before any work.

    ``suffix`` (e.g. ``".png"``), when given, is the only file type accepted:
    the file's bytes are of that type whatever its name says.
    """
    path = pathlib.Path(path)
    if suffix is not None and path.suffix.lower() != suffix:
        raise ValueError(f"{option} must name a {suffix} file (it is written as {suffix[1:].upper()}), "
                         f"got {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"{option} {str(path)!r} is a folder, not a file")
    writable_dir(path.parent, f"the folder of {option}")
    return path
