"""atomic_write: the target is either the old file or the whole new one."""
import os
import stat

import pytest

from pynncomp._files import atomic_write


def test_writes_whole_file_with_normal_permissions(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    with atomic_write(target) as stream:
        stream.write(b"hello")
    assert target.read_bytes() == b"hello"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_failure_keeps_old_file_and_leaves_no_temporary(tmp_path, error):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(error):
        with atomic_write(target) as stream:
            stream.write(b"half of the new")
            raise error("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
