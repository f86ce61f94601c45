"""A thin wrapper around the ``git`` command line, run in one repository folder.

Every failure becomes a one-line error that names the git command, the folder and git's own first
line of complaint: ``GitError`` for git failing (or missing from PATH) and
``InputError`` for a ref the user named that git cannot resolve. Nothing here parses porcelain output
meant for humans; only plumbing and ``rev-parse``-style answers.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import GitError, InputError

if TYPE_CHECKING:  # imported when git first runs: measure in a plain repository starts no git (toplevel)
    import subprocess

_FULL_SHA = r"[0-9a-f]{40}([0-9a-f]{24})?"  # compiled by re on first use: measure never asks


def is_full_sha(s: str) -> bool:
    """True for a full lower-case SHA-1 (40 hex) or SHA-256 (64 hex) object name."""
    return re.fullmatch(_FULL_SHA, s) is not None


def first_error_line(stderr: str) -> str:
    """The line of git's stderr a user should read: the first ``fatal:``/``error:``, else the first."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(("fatal:", "error:", "! ", "remote: error")):
            return ln
    return lines[0] if lines else "(git printed nothing)"


ASK_GIT = object()  # toplevel_on_disk: only git itself can answer
# environment variables that move the repository or its work tree, or set configuration as `git -c` does
# (git(1), ENVIRONMENT; git-config(1)); other GIT_ variables (identity, TLS, prompts, tracing, which
# config files are read: the repository's own config is read below) leave the top level where it is
_RELOCATING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
               "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_OBJECT_DIRECTORY", "GIT_CONFIG_PARAMETERS",
               "GIT_CONFIG_COUNT")
_FALSE = ("false", "no", "off", "0")
_HEX = frozenset(b"0123456789abcdef")
_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def _head_ok(head: bytes) -> bool:
    """``HEAD`` as git's validate_headref takes it: a symbolic ref into ``refs/``, or a full SHA-1 or
    SHA-256, each on one line."""
    line = head[:-1] if head.endswith(b"\n") else head
    if b"\n" in line or not line:
        return False
    if line.startswith(b"ref:"):
        return line[4:].lstrip(b" \t").startswith(b"refs/")
    return len(line) in (40, 64) and set(line) <= _HEX


def _section(line: str) -> str | None:
    """``core`` for ``[core]``, ``remote sub`` for ``[remote "origin"]``; None for any other form
    (a key after the bracket, escapes in the subsection name, ...)."""
    if not (line.startswith("[") and line.endswith("]")):
        return None
    inner = line[1:-1]
    if inner != inner.strip(" \t"):  # '[core ]', '[ core]': git refuses the line
        return None
    name, _, sub = inner.replace("\t", " ").partition(" ")
    sub = sub.lstrip(" ")
    if not name or not set(name) <= _NAME | {"."}:
        return None
    if not sub:
        return name.lower()
    if len(sub) >= 2 and sub[0] == sub[-1] == '"' and '"' not in sub[1:-1] and "\\" not in sub:
        return name.lower() + " sub"
    return None


def _plain_git_dir(git_dir: str) -> bool:
    """True when ``git_dir`` is a ``.git`` folder git takes as it is and that keeps the work tree beside it.

    That is: ``objects`` and ``refs`` folders; a ``HEAD`` file (not a link) naming a branch under
    ``refs/`` or a commit; a ``config`` of section lines, comments and ``key = value`` lines only, with
    ``core.repositoryformatversion`` 0 or 1, ``core.bare`` (if set) false, no ``core.worktree`` and no
    ``[include]``, ``[includeIf]`` or ``[extensions]`` section (a git that does not know an extension
    refuses the repository). False for anything else, however harmless: git then decides.
    """
    try:
        head = os.lstat(os.path.join(git_dir, "HEAD"))
        if not (stat.S_ISREG(head.st_mode) and head.st_size <= 4096 and os.path.isdir(os.path.join(git_dir, "objects"))
                and os.path.isdir(os.path.join(git_dir, "refs"))):
            return False
        with open(os.path.join(git_dir, "HEAD"), "rb") as f:
            if not _head_ok(f.read(4096)):
                return False
        with open(os.path.join(git_dir, "config"), "rb") as f:
            config = f.read(1 << 20)
    except OSError:
        return False
    section = ""
    for raw in config.decode("utf-8", "replace").splitlines():
        line = raw.strip(" \t\r")
        if not line or line.startswith(("#", ";")):
            continue
        if any(c.isspace() and c not in " \t" for c in line):  # git's and Python's whitespace differ
            return False
        if line.startswith("["):
            named = _section(line)
            if named is None or named in ("include", "includeif", "extensions") or named.startswith(
                    ("core ", "include")):
                return False
            section = named
            continue
        key, eq, value = line.partition("=")
        key, value = key.rstrip(" \t"), value.strip(" \t")
        if not eq or not key or not key[0].isalpha() or not set(key) <= _NAME or value.endswith("\\"):
            return False
        key = key.lower()
        if section == "core" and (key == "worktree" or (key == "bare" and value.lower() not in _FALSE)
                                  or (key == "repositoryformatversion" and value not in ("0", "1"))):
            return False
    return True


def toplevel_on_disk(start: Path, env: dict[str, str] | None = None) -> Path | None | object:
    """``git rev-parse --show-toplevel`` run in ``start``, answered from the file system where that is safe.

    Returns the real path of the nearest folder at or above ``start`` that holds a plain ``.git`` folder
    (see :func:`_plain_git_dir`), owned, with that folder, by the current user; None when no folder up to
    ``/`` holds a ``.git`` entry; :data:`ASK_GIT` whenever git could answer differently:
    - a variable in ``os.environ`` or ``env`` (what git would also run with) that moves the repository
      or configures it as ``git -c`` would (``GIT_DIR``, ``GIT_CEILING_DIRECTORIES``, ...);
    - no ``git`` on PATH (the caller's fallback decides, as before);
    - a ``.git`` file (linked work trees, submodules) or a ``.git`` folder git would not take;
    - another owner (``safe.directory``), or root under ``sudo``;
    - a mount point crossed on the way up (``GIT_DISCOVERY_ACROSS_FILESYSTEM``), a bare repository on
      the way, or ``start`` inside a ``.git`` folder.
    It saves ``measure`` starting git (about 2 ms of CPU) and importing ``subprocess``.
    Source: git's discovery (``setup_git_directory_gently`` in git's ``setup.c``), git(1) ENVIRONMENT,
    git-config(1) ``safe.directory`` and ``core.worktree``.
    """
    if any(k.startswith(_RELOCATING) for k in (*os.environ, *(env or ()))) or shutil.which("git") is None:
        return ASK_GIT
    try:
        here = os.path.realpath(start)
        device = os.stat(here).st_dev
    except (OSError, ValueError):
        return ASK_GIT
    if ".git" in here.split(os.sep) or not os.path.isdir(here):
        return ASK_GIT
    if not hasattr(os, "geteuid"):  # Windows: ownership works otherwise there
        return ASK_GIT
    uid = os.geteuid()
    if uid == 0 and "SUDO_UID" in os.environ:  # git then checks ownership against the sudo caller
        return ASK_GIT
    while True:
        try:
            dot = os.lstat(os.path.join(here, ".git"))
        except FileNotFoundError:
            dot = None
        except OSError:
            return ASK_GIT
        if dot is not None:
            git_dir = os.path.join(here, ".git")
            if (not stat.S_ISDIR(dot.st_mode) or dot.st_uid != uid or os.stat(here).st_uid != uid
                    or not _plain_git_dir(git_dir)):
                return ASK_GIT
            return Path(here)
        if os.path.exists(os.path.join(here, "HEAD")):  # perhaps a bare repository: git would stop here
            return ASK_GIT
        parent = os.path.dirname(here)
        if parent == here:
            return None
        try:
            if os.stat(parent).st_dev != device:
                return ASK_GIT
        except OSError:
            return ASK_GIT
        here = parent


class Git:
    """Runs git in ``cwd``. ``env`` entries are added to the environment of every call."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None):
        self.cwd = Path(cwd)
        self.env = dict(env or {})

    # -- running ---------------------------------------------------------------------------------

    def exec(
        self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``git *args`` and return the completed process (bytes out, never raises on status)."""
        # GIT_OPTIONAL_LOCKS=0: no git we run refreshes the user's index as a side effect (unless the
        # caller asks for it); idm-gate only ever reads the work tree and the index.
        import subprocess

        full_env = {"GIT_OPTIONAL_LOCKS": "0", **os.environ, **self.env, **(env or {})}
        try:
            return subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                input=input,
                capture_output=True,
                env=full_env,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise GitError("git: the git executable was not found on PATH; install git 2.30 or newer") from None
        except NotADirectoryError:
            raise GitError(f"git: {self.cwd} is not a folder; run idm-gate inside the repository") from None

    def fail_message(self, args: tuple[str, ...], proc: subprocess.CompletedProcess[bytes]) -> str:
        err = first_error_line(proc.stderr.decode("utf-8", "replace"))
        return f"git {args[0] if args else ''} failed in {self.cwd} (exit {proc.returncode}): {err}"

    def run_bytes(
        self, *args: str, input: bytes | None = None, check: bool = True, env: dict[str, str] | None = None
    ) -> bytes:
        """Like :meth:`run` but returns stdout as bytes (for blobs and ``cat-file --batch``)."""
        proc = self.exec(*args, input=input, env=env)
        if check and proc.returncode != 0:
            raise GitError(self.fail_message(args, proc))
        return proc.stdout

    def run(
        self, *args: str, input: bytes | None = None, check: bool = True, env: dict[str, str] | None = None
    ) -> str:
        """Run ``git *args``; return stdout decoded and stripped of its trailing newline.

        With ``check`` (default) a non-zero exit raises ``GitError`` naming git's first error line.
        """
        out = self.run_bytes(*args, input=input, check=check, env=env)
        return out.decode("utf-8", "replace").rstrip("\n")

    # -- questions -------------------------------------------------------------------------------

    def toplevel(self) -> Path | None:
        """The repository's top folder, or None when ``cwd`` is not inside a work tree.

        git's answer (``git rev-parse --show-toplevel``), read from the file system when the repository
        is a plain one (:func:`toplevel_on_disk`); anything less plain asks git.
        """
        on_disk = toplevel_on_disk(self.cwd, self.env)
        if on_disk is not ASK_GIT:
            return on_disk if isinstance(on_disk, Path) else None
        proc = self.exec("rev-parse", "--show-toplevel")
        if proc.returncode != 0:
            return None
        out = proc.stdout.decode("utf-8", "replace").strip()
        return Path(out) if out else None

    def ownership_refusal(self) -> str | None:
        """git's complaint when it refuses ``cwd``'s repository for its owner (``safe.directory``), else None.

        Since git 2.35.2 a repository owned by another user is refused ("detected dubious ownership")
        unless listed in ``safe.directory``; ``toplevel`` then answers None as if there were no repository.
        """
        proc = self.exec("rev-parse", "--show-toplevel")
        err = proc.stderr.decode("utf-8", "replace")
        return first_error_line(err) if proc.returncode != 0 and "dubious ownership" in err else None

    def rev_parse(self, ref: str) -> str:
        """The full commit SHA ``ref`` names; ``InputError`` when git cannot resolve it to a commit."""
        if not ref or ref.startswith("-") or "\x00" in ref:
            raise InputError(f"git ref {ref!r}: not a valid ref name; name a branch, tag or commit SHA")
        proc = self.exec("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        out = proc.stdout.decode("utf-8", "replace").strip()
        if proc.returncode != 0 or not out:
            raise InputError(
                f"git ref {ref!r}: unknown ref in {self.cwd}; fetch it first "
                f"(git fetch origin {ref}) or check the name"
            )
        return out

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of ``a`` and ``b``; None when they share no (fetched) history."""
        proc = self.exec("merge-base", a, b)
        if proc.returncode == 1:
            return None
        if proc.returncode != 0:
            raise GitError(self.fail_message(("merge-base",), proc))
        return proc.stdout.decode().split()[0] if proc.stdout.strip() else None

    def first_parent_ancestors(self, sha: str, limit: int) -> list[str]:
        """``sha`` and its first-parent ancestors, nearest first, at most ``limit`` of them.

        In a shallow clone the list stops at the shallow boundary (see ``store.ensure_history``).
        """
        if limit <= 0:
            return []
        out = self.run("rev-list", "--first-parent", f"--max-count={limit}", sha, "--")
        return out.split()

    def first_parent_log(self, sha: str, limit: int) -> list[tuple[str, str | None]]:
        """:meth:`first_parent_ancestors` with each commit's committer date (ISO 8601, ``%cI``; None
        when git prints none): ``(sha, date)`` pairs, nearest first, from one ``git log``.

        ``--no-show-signature``: with ``log.showSignature`` set, git prints each commit's signature check
        ("gpg: ...", "No signature") on standard output beside the format; such lines would read as commits.
        """
        if limit <= 0:
            return []
        out = self.run("log", "--no-show-signature", "--first-parent", f"--max-count={limit}", "--format=%H %cI",
                       sha, "--")
        pairs = [line.split(" ", 1) for line in out.splitlines() if line.strip()]
        return [(p[0], p[1] if len(p) == 2 else None) for p in pairs]

    def show_file(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` as committed in ``rev`` (``git show rev:path``); None when absent.

        ``path`` is relative to the repository's top folder. Never reads the working tree.
        """
        out = self.run_bytes("cat-file", "--batch", input=f"{rev}:{path}\n".encode())
        header, _, rest = out.partition(b"\n")
        parts = header.split()
        if len(parts) != 3 or parts[1] != b"blob":
            return None  # "<name> missing", "ambiguous", or a tree/commit at that path
        size = int(parts[2])
        return rest[:size]

    def changed_tracked_files(self) -> list[str]:
        """Tracked files whose work-tree or staged content differs from ``HEAD`` (repository-relative).

        Asked with ``git status --porcelain -z`` and ``GIT_OPTIONAL_LOCKS=0``, which compares content
        without writing the index. (``git diff HEAD`` would give the same list but rewrites
        ``.git/index`` whenever a file's stat data is stale, e.g. after a fresh checkout.)
        """
        out = self.run_bytes("status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames",
                             "--ignore-submodules=none", env={"GIT_OPTIONAL_LOCKS": "0"})
        return [entry[3:].decode("utf-8", "replace") for entry in out.split(b"\0") if len(entry) > 3]

    def is_shallow(self) -> bool:
        """True in a shallow clone (``actions/checkout`` makes one by default, fetch-depth 1)."""
        return self.run("rev-parse", "--is-shallow-repository") == "true"

    def has_remote(self, name: str) -> bool:
        """True when a remote called ``name`` is configured."""
        return self.exec("config", "--get", f"remote.{name}.url").returncode == 0

    def config_get(self, key: str) -> str | None:
        """The value of git config ``key``, or None when it is not set."""
        proc = self.exec("config", "--get", key)
        return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None
