"""A bounded, non-blocking reader for weight-file headers.

Header readers never read tensor data: they parse a prefix of the file and skip the rest with
``lseek``. ``HeaderReader`` enforces that: a cap on the bytes actually read, a wall-clock deadline,
and EOF reported as an ``InputError`` that names the file. The file is opened with ``O_NONBLOCK``
and re-checked with ``fstat`` so a path swapped for a FIFO after the caller's ``stat`` cannot hang us.
"""

from __future__ import annotations

import os
import stat
import struct
import time
from pathlib import Path

from ..errors import InputError

DEFAULT_READ_CAP = 256 * 1024 * 1024
DEFAULT_DEADLINE_S = 30.0
# The first read (when the file is opened) is one 4 KiB page: a safetensors shard's header usually
# fits, and a shard is sized from that one page. Each further read doubles, up to 256 KiB, so a GGUF
# vocabulary of megabytes takes a few dozen reads rather than thousands, and reads past the metadata
# stay under 256 KiB.
_FIRST_CHUNK = 4 * 1024
_MAX_CHUNK = 256 * 1024
_SECOND_CHUNK = min(_FIRST_CHUNK * 2, _MAX_CHUNK)
_FADVISE = getattr(os, "posix_fadvise", None)
_FADV_RANDOM = getattr(os, "POSIX_FADV_RANDOM", 0)
_S_IFMT, _S_IFREG = stat.S_IFMT(0o177777), stat.S_IFREG
# bound once (reads stay os.pread, looked up per call, so a test can count the bytes read)
_open, _fstat, _close, _monotonic = os.open, os.fstat, os.close, time.monotonic
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


class HeaderReader:
    """Sequential little-endian reader over one regular file, with caps.

    Use as a context manager. ``size`` is the file size from ``fstat``; ``pos`` the current offset;
    ``head`` the bytes of the first read, made on opening: the first ``min(4 KiB, cap, size)`` bytes,
    fewer only when the file shrank meanwhile.
    """

    # one reader per weight file (100,000 for as many shards): slots, not a __dict__ per reader
    __slots__ = ("what", "shown", "cap", "_deadline", "_fd", "size", "_buf_start", "pos", "_buf", "head",
                 "bytes_read", "_chunk")

    def __init__(self, path: str | Path, what: str, shown: str, *, cap: int = DEFAULT_READ_CAP,
                 deadline_s: float | None = None) -> None:
        # Run once per file (100,000 times for as many shards): module-level names bound once, no
        # helper calls where an expression does.
        self.what, self.shown, self.cap = what, shown, cap
        self._deadline = deadline = _monotonic() + (DEFAULT_DEADLINE_S if deadline_s is None else deadline_s)
        try:
            self._fd = fd = _open(path, _OPEN_FLAGS)
        except OSError as e:
            raise InputError(f"{what}: {shown!r} cannot be opened ({e.strerror})") from None
        st = _fstat(fd)
        if st.st_mode & _S_IFMT != _S_IFREG:  # stat.S_ISREG
            _close(fd)
            raise InputError(f"{what}: {shown!r} is not a regular file (device, FIFO or socket); name a file")
        self.size = size = st.st_size
        if _FADVISE is not None:
            try:  # no read-ahead: the kernel would otherwise cache 128-256 KiB of tensor data per file
                _FADVISE(fd, 0, 0, _FADV_RANDOM)
            except OSError:
                pass
        self._buf_start = 0  # file offset of _buf[0]
        self.pos = 0
        # The first read, here: every header starts at byte 0, so a small one is parsed from this
        # buffer with no further system call (a slice per read() call).
        want = _FIRST_CHUNK if _FIRST_CHUNK <= cap else cap
        if size < want:
            want = size
        try:
            if _monotonic() > deadline:
                self.check_time()  # raises
            b = os.pread(fd, want, 0) if want else b""
            got = len(b)
            while got < want:  # a short read (a file being written, a network file system): read on
                more = os.pread(fd, want - got, got)
                if not more:
                    break  # the file shrank: read() finds it out when it needs the bytes
                b += more
                got = len(b)
        except BaseException:
            _close(fd)
            raise
        self._buf = self.head = b  # head: the first read, for a caller that parses in place
        self.bytes_read = got
        self._chunk = _SECOND_CHUNK

    def __enter__(self) -> HeaderReader:
        return self

    def __exit__(self, *exc: object) -> None:
        _close(self._fd)

    def fail(self, msg: str) -> InputError:
        """An ``InputError`` for this file: ``<what>: '<file>': <msg>``."""
        return InputError(f"{self.what}: {self.shown!r}: {msg}")

    @property
    def remaining(self) -> int:
        return self.size - self.pos

    def check_time(self) -> None:
        if time.monotonic() > self._deadline:
            raise self.fail("header took too long to parse (over the time limit); the file is likely "
                            "malformed or adversarial")

    def read(self, n: int, what: str = "data") -> bytes:
        """Exactly ``n`` bytes at the current position, or an error naming what was being read."""
        pos = self.pos
        off = pos - self._buf_start
        if 0 <= off and 0 <= n and off + n <= len(self._buf):  # buffered, so inside the file too
            self.pos = pos + n
            return self._buf[off:off + n]
        if n < 0 or n > self.size - pos:
            raise self.fail(f"truncated: {what} at byte {pos} needs {n:,} bytes but the file "
                            f"ends at byte {self.size:,}; re-export or re-download the file")
        # keep what is already buffered from pos on, read only the rest (counted once)
        tail = self._buf[off:] if 0 <= off < len(self._buf) else b""
        need = n - len(tail)
        if self.bytes_read + need > self.cap:
            raise self.fail(f"header is over the {self.cap:,}-byte read limit; this reader only "
                            "parses headers")
        if time.monotonic() > self._deadline:
            self.check_time()  # raises
        start = self.pos + len(tail)
        want = min(max(need, self._chunk), self.cap - self.bytes_read, self.size - start)
        self._chunk = min(self._chunk * 2, _MAX_CHUNK)
        b = os.pread(self._fd, want, start)  # one system call, no lseek
        got = len(b)
        if got < want:  # a short read (a file being written, a network file system): read on
            parts = [tail, b]
            while got < want:
                b = os.pread(self._fd, want - got, start + got)
                if not b:
                    break
                parts.append(b)
                got += len(b)
            b = b"".join(parts)
        elif tail:
            b = tail + b
        self.bytes_read += got
        self._buf, self._buf_start = b, self.pos
        if got < need:  # the file shrank under us
            raise self.fail(f"truncated: file ended at byte {start + got:,} while reading {what}")
        self.pos += n
        return self._buf[:n]

    def window(self, n: int, what: str = "data") -> tuple[bytes, int]:
        """``(buffer, offset)`` with at least ``n`` bytes of the file from the current position at
        ``buffer[offset:]`` (often more: the rest of the last read), without moving. For loops
        that parse many small items in place with ``struct.unpack_from``; ``advance`` moves on."""
        self.read(n, what)
        self.pos -= n
        return self._buf, self.pos - self._buf_start

    def advance(self, n: int) -> None:
        """Move forward ``n`` bytes within the last ``window`` (already read and counted)."""
        self.pos += n

    def skip(self, n: int, what: str = "data") -> None:
        """Move forward ``n`` bytes without reading them (must stay within the file)."""
        if n < 0 or n > self.remaining:
            raise self.fail(f"truncated: {what} at byte {self.pos} needs {n:,} bytes but the file "
                            f"ends at byte {self.size:,}; re-export or re-download the file")
        self.pos += n

    def u32(self, what: str) -> int:
        return int(struct.unpack("<I", self.read(4, what))[0])

    def u64(self, what: str) -> int:
        return int(struct.unpack("<Q", self.read(8, what))[0])


def read_prefix(path: str | Path, n: int, what: str, shown: str) -> tuple[bytes, int]:
    """The first ``n`` bytes (fewer if the file is shorter) and the file size."""
    with HeaderReader(path, what, shown, cap=max(n, 1)) as r:
        k = min(n, r.size)
        return (r.read(k, "prefix") if k else b""), r.size


def format_from_name(name: str) -> str | None:
    """The weight format a file name implies by extension, or None."""
    low = name.lower()
    dot = low.rfind(".")
    return EXTENSIONS.get(low[dot:]) if dot >= 0 else None  # every extension is one '.suffix'



EXTENSIONS = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".onnx": "onnx",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".bin": "pytorch",
    ".ckpt": "pytorch",
}
