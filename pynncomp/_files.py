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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        with open(tmp, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
