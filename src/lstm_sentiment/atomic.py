"""Atomic writes: a reader sees the old file (or directory) or the new one, never a half-written one."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import glob
import hashlib
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from lstm_sentiment.errors import SentimentError


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it over ``path``; missing
    folders on the way to ``path`` are made (and removed again, while empty, when the write fails).

    Works for a file or a directory. A directory is swapped with the old one in one step where Linux can
    (renameat2), else the old one is moved aside first (rename cannot replace a non-empty directory); the
    old one is removed after. A symbolic link is written through: its target
    is replaced and the link stays. A file that replaces another keeps that one's permissions. A device,
    pipe or socket (``/dev/null``, ``/dev/stdout``, a FIFO) is written into directly, never replaced by a
    file: there is nothing in it to lose. Temporary folders left by a killed run (their process is gone)
    are removed first. A name of one of this process's open descriptors (``/dev/stdout``, ``/dev/fd/3``)
    that the shell pointed at a file (``>> log``) is written through that descriptor, after the rest of
    its output: replacing the file would drop what was in it and send what follows to a deleted file.

    Raises:
        SentimentError: ``path`` is a directory and ``write`` made a file, or the other way round;
            ``path`` is a read-only file; the folder cannot be written (nothing is replaced; every
            message names ``path``, never the temporary one).
    """
    shown = Path(path)
    fd = _own_descriptor(shown)
    if fd is not None:
        _write_through(fd, shown, write)
        return
    if _special(shown):
        try:
            write(shown)
        except OSError as err:
            if err.filename is not None or isinstance(err, BrokenPipeError):
                raise  # an input the writer reads names itself; a reader that stopped early ends quietly
            raise SentimentError(f"{shown}: cannot write ({err.strerror})") from None  # /dev/full: ENOSPC
        return
    path = Path(os.path.realpath(shown))
    if path.is_file() and not _writable(path):
        raise SentimentError(f"{shown} is read-only; make it writable or choose another name")
    own = f"{_tmp_prefix(path)}{os.getpid()}."
    made: list[Path] = []
    written = False
    try:
        try:
            made = make_folders(path.parent)
            _remove_stale(path)
            tmp = Path(tempfile.mkdtemp(prefix=own, dir=path.parent))
        except OSError as err:
            # mkdir says "File exists" or "Not a directory" for a file on the way, naming neither.
            _nearest_folder(shown, path.parent, "name")
            raise SentimentError(f"{shown}: cannot write ({err.strerror})") from None
        try:
            target = tmp / "new"
            write(target)
            if path.exists() and path.is_dir() != target.is_dir():
                raise SentimentError(f"{shown} is a {'directory' if path.is_dir() else 'file'}; choose another name")
            _default_permissions(target)
            if path.is_dir():
                if not _exchange(target, path):
                    os.replace(path, tmp / "old")
                    os.replace(target, path)
            else:
                if path.is_file():
                    target.chmod(path.stat().st_mode & 0o7777)
                os.replace(target, path)
            written = True
        except OSError as err:
            # A full disk names no file (a file object's write); an input the writer reads names itself.
            ours = err.errno in (errno.ENOSPC, errno.EDQUOT) or (err.filename is not None and str(err.filename).startswith(str(tmp)))
            if not ours:
                raise
            raise SentimentError(f"{shown}: cannot write ({err.strerror})") from None
    finally:
        # By name, not by `tmp`: Ctrl-C inside mkdtemp leaves a folder that `tmp` never named.
        _remove_own(path.parent, own)
        if not written:
            # A failed `-o new/a/out.csv` left new/a/ behind, empty.
            remove_empty(made)


def make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and the folders on the way to it that are missing (as ``mkdir(parents=True,
    exist_ok=True)``); returns those this call made, deepest first: one that another process made meanwhile
    is not among them, so :func:`remove_empty` leaves it.

    Raises:
        OSError: as ``mkdir`` (a file on the way, no permission), the folders made before it removed.
    """
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                if not folder.is_dir():
                    raise
                continue
            made.insert(0, folder)
    except OSError:
        remove_empty(made)
        raise
    return made


def remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` in order while each is empty (another process may have written into one since)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _exchange(new: Path, old: Path) -> bool:
    """Swap two directories in one step (Linux's renameat2 with RENAME_EXCHANGE), so that a reader of ``old``
    sees the old or the new one, never neither: two renames (old aside, new in) left a moment with nothing
    there, and a model read then was "not found". False where the system or file system lacks it (the
    caller then renames twice); ``new`` then holds what ``old`` held."""
    renameat2 = getattr(_LIBC, "renameat2", None)
    if renameat2 is None:
        return False
    return renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(old), _RENAME_EXCHANGE) == 0


_LIBC = ctypes.CDLL(None, use_errno=True)
# The locks this process holds (claimed), each with its (process, thread): a second flock of the same file
# from this process would be refused; a child forked meanwhile is another owner.
_HELD: dict[Path, tuple[int, int]] = {}
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # <fcntl.h>, <linux/fs.h>


def home_expanded(path: str | os.PathLike) -> Path:
    """``path`` as a Path, a leading ``~`` (``~/runs/x``, not ``~user``) read as the home folder: typed after
    ``--out=`` or given from Python, it made a folder named ``~``."""
    path = Path(path)
    return path.expanduser() if path.parts[:1] == ("~",) else path


@contextlib.contextmanager
def claimed(path: Path, option: str) -> Iterator[None]:
    """Hold ``path`` for this process while a command works toward it (a training run, before its bundle is
    written): another process that claims it meanwhile is refused at once. Two runs into one ``--out`` both
    said "wrote" and the first one's model was gone, replaced by the second's without a word.

    The claim is an advisory lock (flock) on a file of the system's temporary folder named by a hash of
    ``path``'s real path (``lstm-sentiment-HASH.lock``, holding the process id): no folder is made for it
    beside an output that may never be written. It is released and removed at the end, and dropped by the
    kernel when the process is killed (the next claim takes the file over).

    The thread that holds ``path`` may claim it again inside (the command's claim, then :func:`train`'s own),
    which holds it no further; another thread of the process is refused as another process is.

    Raises:
        SentimentError: another process holds ``path`` (its id named), or the lock cannot be made.
    """
    digest = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"lstm-sentiment-{digest}.lock"
    owner = (os.getpid(), threading.get_ident())
    if _HELD.get(lock) == owner:
        yield
        return
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise SentimentError(f"{lock}: cannot make the lock of {option} {path} ({err.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise SentimentError(f"{path} is being written by another run (process {holder}); wait for it or choose another {option}") from None
        # The last holder may have removed the file between our open and our lock: then claim the new one.
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(lock)):
                break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        _HELD[lock] = owner
        yield
    finally:
        _HELD.pop(lock, None)
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def check_output_folder(out_dir: Path, names: frozenset[str], marker: str, kind: str, option: str, *, whole: bool) -> None:
    """Raise unless ``out_dir`` may take an output folder of ``kind``, checked before the work that fills it:
    it is absent, an empty directory, or an earlier such output (its entries are all regular files named in
    ``names``, ``marker`` among them), and the folder that will be written in can be written. Temporary
    folders that a killed :func:`write_atomic` of one of ``names`` left inside it are removed first.

    Args:
        whole: the output replaces ``out_dir`` whole (:func:`write_atomic`, writing in its parent), rather
            than files inside it.
    Raises:
        SentimentError: a file, or anything else that is not a folder (a device, a pipe); a directory holding anything else (it would be lost); a folder where a file
            is on the way, or one that cannot be written; each named, with ``option`` to change.
    """
    out_dir = Path(out_dir)
    if out_dir.is_file():
        raise SentimentError(f"{out_dir} is a file; choose another {option}")
    if out_dir.exists() and not out_dir.is_dir():
        # /dev/null, a FIFO: train ran to its end, then failed to put a folder there ("File exists").
        raise SentimentError(f"{out_dir} is not a folder; choose another {option}")
    if out_dir.is_dir():
        for name in names:
            _remove_stale(out_dir / name)
        entries = sorted(out_dir.iterdir())
        foreign = [p.name for p in entries if p.name not in names or not p.is_file() or p.is_symlink()]
        if foreign or (entries and not (out_dir / marker).is_file()):
            shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
            what = f"holds {shown}, not {kind}'s" if foreign else f"holds files that are not {kind}"
            raise SentimentError(f"{out_dir} {what}; choose another {option}")
    folder = Path(os.path.abspath(out_dir))
    _check_folder_writable(out_dir, folder.parent if whole or not folder.is_dir() else folder, option)


def check_output_file(path: Path, option: str) -> None:
    """Raise where :func:`write_atomic` of a file would, before the work that makes it: a directory, a
    read-only file, a folder that cannot be written. A device or pipe passes (it is written into), and so
    does an open descriptor of this process (written through).

    Raises:
        SentimentError: naming ``path``, and ``option`` to change.
    """
    shown = Path(path)
    if _special(shown) or _own_descriptor(shown) is not None:
        return
    real = Path(os.path.realpath(shown))
    if real.is_dir():
        raise SentimentError(f"{option} {shown} is a directory; choose another name")
    if real.is_file() and not _writable(real):
        raise SentimentError(f"{option} {shown} is read-only; make it writable or choose another name")
    _check_folder_writable(shown, real.parent, option)


def _check_folder_writable(out: Path, folder: Path, option: str) -> None:
    """Raise unless ``folder`` (or, where missing, the nearest folder above, in which it will be made) can be
    written in."""
    folder = _nearest_folder(out, folder, option)
    try:
        # A probe, not os.access: root passes os.access on read-only folders, and immutable ones fail anyway.
        os.rmdir(tempfile.mkdtemp(prefix=f".{folder.name}.probe.", dir=folder))
    except OSError as err:
        raise SentimentError(f"{out}: cannot write in {folder} ({err.strerror}); choose another {option}") from None


def _nearest_folder(out: Path, folder: Path, choose: str) -> Path:
    """``folder``, or where it is missing the nearest path above it that exists; raises naming ``out`` when
    that is a file, in the way of every folder below it."""
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise SentimentError(f"{out}: {folder} is a file, not a folder; choose another {choose}")
    return folder


_DESCRIPTOR = re.compile(r"/(?:dev/fd|proc/self/fd|proc/%d/fd)/(\d+)" % os.getpid())


def _own_descriptor(path: Path) -> int | None:
    """N when ``path`` names this process's open descriptor N of a regular file, through any links
    (/dev/stdout → /proc/self/fd/1); resolving the whole path would give the file itself."""
    name = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on links in a path
        match = _DESCRIPTOR.fullmatch(name)
        if match:
            try:
                return int(match[1]) if stat.S_ISREG(os.fstat(int(match[1])).st_mode) else None
            except OSError:  # not open here
                return None
        if not os.path.islink(name):
            return None
        name = os.path.normpath(os.path.join(os.path.dirname(name), os.readlink(name)))
    return None


def _write_through(fd: int, shown: Path, write: Callable[[Path], None]) -> None:
    """``write`` to a temporary file, then its bytes into descriptor ``fd`` (its offset moves on, so the
    shell's later writes follow them)."""
    with tempfile.TemporaryDirectory(prefix="lstm-sentiment-out-") as tmp:
        target = Path(tmp) / shown.name
        write(target)
        try:
            with target.open("rb") as source, os.fdopen(os.dup(fd), "wb") as sink:
                shutil.copyfileobj(source, sink)
        except BrokenPipeError:
            raise  # the reader stopped early (`| head`): the command ends quietly, as for its other output
        except OSError as err:
            raise SentimentError(f"{shown}: cannot write ({err.strerror})") from None


def _special(path: Path) -> bool:
    """True for an existing device, FIFO or socket (through links: /dev/stdout is one to a pipe or tty)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _remove_own(folder: Path, prefix: str) -> None:
    """Remove this process's temporary folders named ``prefix*``, to the end even if Ctrl-C is pressed
    meanwhile (a second press while a first one unwinds, say); such a press is raised after."""
    pressed = None
    while True:
        try:
            for entry in folder.glob(f"{glob.escape(prefix)}*"):
                shutil.rmtree(entry, ignore_errors=True)
            break
        except KeyboardInterrupt as err:
            pressed = err
    if pressed is not None:
        raise pressed


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}."


def _writable(path: Path) -> bool:
    # os.access says yes to root whatever the mode; a file with no write bit is read-only for everyone.
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _remove_stale(path: Path) -> None:
    """Remove the temporary folders of ``path`` whose process is gone (killed with SIGKILL, say).

    Their names hold the writer's process id (``.NAME.PID.random``); one of a live process is another
    run writing now, and stays.
    """
    remove_dead_folders(path.parent, _tmp_prefix(path))


def remove_dead_folders(folder: Path, prefix: str) -> None:
    """Remove the folders in ``folder`` named ``PREFIX PID . anything`` whose process ``PID`` is gone: work
    folders of runs killed before their cleanup (SIGKILL, out of memory). A live process's stay."""
    for entry in Path(folder).glob(f"{glob.escape(prefix)}*"):
        pid = entry.name[len(prefix):].partition(".")[0]
        if entry.is_dir() and not entry.is_symlink() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _default_permissions(path: Path) -> None:
    # mkdtemp makes 0700 directories (and some writers 0600 files); give the result the modes a plain
    # mkdir/open would have had under the current umask.
    umask = os.umask(0)
    os.umask(umask)
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        item.chmod((0o777 if item.is_dir() else 0o666) & ~umask)


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
