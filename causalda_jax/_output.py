"""Writing outputs without losing what the user gave.

Every target is checked before any work starts (it is not an input, it does not replace an
existing file or a non-empty folder unless asked, its folder exists or can be made, its
extension is one we write), and every file or folder is written under a temporary name next to
its target and renamed into place only when complete. A run that stops part-way, by an error
or by Ctrl-C, leaves nothing that looks like a finished output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Union

__all__ = [
    "check_distinct",
    "check_output",
    "discard_pending",
    "same_path",
    "staged_folder",
    "write_file",
    "written",
]

PathLike = Union[str, os.PathLike]

# Temporary files and folders of the writes in progress, removed on Ctrl-C by the interrupt
# handler (which exits without unwinding the stack, so no ``finally`` block would run).
_PENDING: set[str] = set()
# Outputs completed by this process, named in the message of an interrupted run.
_WRITTEN: list[str] = []


def same_path(a: PathLike, b: PathLike) -> bool:
    """Whether two paths name the same file (through links, ``..`` and case-folding file systems)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_output(
    path: PathLike,
    *,
    inputs: Iterable[PathLike | None] = (),
    overwrite: bool = False,
    suffixes: tuple[str, ...] | None = None,
    folder: bool = False,
    force_hint: str = "--force",
) -> Path:
    """Check that writing ``path`` loses nothing, before any work is done.

    Args:
        path: the file (or, with ``folder=True``, the folder) to be written.
        inputs: paths read by the same run (``None`` entries are skipped); the output may be
            none of them and, for a folder, may not contain any of them.
        overwrite: allow replacing an existing file or a non-empty folder.
        suffixes: extensions accepted (lower case, with the dot); ``None`` accepts any.
        folder: ``path`` is a folder.
        force_hint: how the user asks to overwrite, named in the message.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: one line naming the path and what to change.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> (d / "data.csv").write_text("x\\n1\\n")
        4
        >>> check_output(d / "out.parquet", inputs=[d / "data.csv"], suffixes=(".parquet",)).name
        'out.parquet'
        >>> check_output(d / "data.csv", inputs=[d / "data.csv"])
        Traceback (most recent call last):
        ...
        ValueError: output ... is the input ...; write the output under another name
    """
    path = Path(path)
    for source in inputs:
        if source is None:
            continue
        if same_path(path, source):
            raise ValueError(f"output {path} is the input {source}; write the output under another name")
        if folder and _inside(Path(source), path):
            raise ValueError(f"output folder {path} holds the input {source}; choose a folder that does not")
    if folder:
        if path.exists() and not path.is_dir():
            raise ValueError(f"output folder {path} is an existing file; choose a folder name")
        if path.is_dir() and any(path.iterdir()) and not overwrite:
            raise ValueError(f"output folder {path} exists and is not empty; choose a new folder or pass "
                             f"{force_hint} to replace it")
    else:
        if path.is_dir():
            raise ValueError(f"output {path} is a folder; give a file name")
        if suffixes is not None and path.suffix.lower() not in suffixes:
            raise ValueError(f"cannot write {path}: use a {', '.join(suffixes)} file name")
        if path.exists() and not overwrite:
            raise ValueError(f"output {path} exists; choose a new name or pass {force_hint} to replace it")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"cannot write {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write {path}: no permission to write in {ancestor}")
    return path


def check_distinct(paths: Iterable[tuple[str, PathLike | None]]) -> None:
    """Refuse two outputs of one run that name the same file.

    Args:
        paths: ``(option name, path)`` pairs; ``None`` paths are skipped.

    Raises:
        ValueError: naming both options.
    """
    given = [(name, p) for name, p in paths if p is not None]
    for i, (name_a, a) in enumerate(given):
        for name_b, b in given[i + 1:]:
            if same_path(a, b):
                raise ValueError(f"{name_a} and {name_b} both write {a}; give them different names")


def _temporary(path: Path, tag: str) -> Path:
    # Same folder (so the rename is atomic), hidden, and the target's extension last so that
    # writers choosing a format by extension (matplotlib, pandas) still choose the right one.
    return path.with_name(f".{path.stem}.{tag}-{os.getpid()}{path.suffix}")


def write_file(path: PathLike, write: Callable[[str], object]) -> Path:
    """Write a file through a temporary name in its folder, then rename it into place.

    Args:
        path: the target; its folder is created if needed.
        write: called with the temporary path; must write the whole file there.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "sub" / "notes.txt"
        >>> _ = write_file(target, lambda tmp: pathlib.Path(tmp).write_text("done"))
        >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
        ('done', ['notes.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path, "partial")
    _PENDING.add(str(tmp))
    try:
        write(str(tmp))
        os.replace(tmp, path)
        _WRITTEN.append(str(path))
    finally:
        _PENDING.discard(str(tmp))
        _remove(tmp)
    return path


@contextlib.contextmanager
def staged_folder(path: PathLike) -> Iterator[Path]:
    """Build a folder under a temporary name next to it; put it in place only when complete.

    An existing ``path`` (checked beforehand with :func:`check_output`) is replaced by the new
    folder once the block finishes without error; on error the partial folder is removed and
    ``path`` is left as it was.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "report"
        >>> with staged_folder(target) as tmp:
        ...     _ = (tmp / "index.html").write_text("<p>done</p>")
        ...     target.exists()
        False
        >>> sorted(p.name for p in target.iterdir())
        ['index.html']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path, "partial")
    _remove(tmp)
    _PENDING.add(str(tmp))
    try:
        tmp.mkdir()
        yield tmp
        if path.exists():
            old = _temporary(path, "replaced")
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
        _WRITTEN.append(str(path))
    finally:
        _PENDING.discard(str(tmp))
        _remove(tmp)


def discard_pending() -> list[str]:
    """Remove the temporary files and folders of the writes in progress; return their paths."""
    removed = sorted(_PENDING)
    for p in removed:
        _remove(Path(p))
    _PENDING.clear()
    return removed


def written() -> list[str]:
    """The outputs this process has completed, in order."""
    return list(_WRITTEN)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
