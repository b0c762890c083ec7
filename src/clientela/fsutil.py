"""Atomic file output: write to a temporary file beside the target, then rename.

An interrupted or failed run never leaves a partial file at the target path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it onto the target on success.

    On any exception (including KeyboardInterrupt) the temporary file is removed
    and the target is left untouched.
    """
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def sha256_files(paths: Sequence[str | os.PathLike[str]]) -> dict[str, str]:
    """The hex SHA-256 of several files, two at a time (hashlib releases the GIL while it
    hashes a chunk), keyed by the path as given."""
    from concurrent.futures import ThreadPoolExecutor

    keys = [os.fspath(p) for p in paths]
    with ThreadPoolExecutor(max_workers=max(1, min(2, len(keys)))) as pool:
        return dict(zip(keys, pool.map(sha256_file, keys), strict=True))
