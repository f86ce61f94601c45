"""Run as the workspace's owner inside a container action, so nothing we write is root's.

GitHub starts a container action as root (its Dockerfile guidance asks for no ``USER``) with the job's
workspace, owned by the runner's user (uid 1001 on GitHub-hosted runners), mounted at
``/github/workspace``. Whatever a root process writes there stays root's after the step: git objects
under ``.git/objects/xx/``, a fetched ref and its reflog, a rewritten index, a report file. A later
step as the runner's user then fails, e.g. ``git add`` with "insufficient permission for adding an
object to repository database .git/objects", or cannot overwrite or clean the report.

``become_workspace_owner`` therefore switches this process (and every git it starts) to the
workspace's owner before anything is written: each file is created with the right owner, wherever git
puts it, with no list of paths to chown afterwards and nothing left behind when the process is killed
half-way. It changes nothing when we do not run as root or when root owns the workspace (a runner
that itself runs as root). It also stays root, with a warning, when the step's command files
(``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``) could not be written by that user or the switch is refused
(a container without ``CAP_SETUID``): then the old behaviour, root with ``safe.directory``, applies.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The runner's command files: the step must still be able to write them after the switch.
COMMAND_FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")


@dataclass(frozen=True)
class Switch:
    """What ``become_workspace_owner`` did: ``uid``/``gid`` now in effect, or why it stayed."""

    switched: bool
    uid: int
    gid: int
    reason: str = ""


def _writable_by(path: Path, uid: int, gid: int) -> bool:
    """Would ``uid``:``gid`` (no supplementary groups) be allowed to write the existing file ``path``?"""
    try:
        st = path.stat()
    except OSError:
        return True  # not there yet: the runner creates these files; nothing to check
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IWUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IWGRP)
    return bool(st.st_mode & stat.S_IWOTH)


def become_workspace_owner(workspace: Path, environ: Mapping[str, str], warn: Callable[[str], None]) -> Switch:
    """Switch to the owner of ``workspace`` when running as root and root does not own it.

    Sets the groups to the owner's group alone, then the gid, then the uid (that order: after the uid
    the process may no longer change the others). When ``HOME`` is not usable by that user (``/root``
    in a container started by hand) it points ``HOME`` at a fresh private folder, so git can read its
    config; the folder is removed when the process exits. Returns what happened; a refusal is a warning, never an error.
    """
    euid = os.geteuid()
    if euid != 0:
        return Switch(False, euid, os.getegid(), "not running as root")
    try:
        st = workspace.stat()
    except OSError as e:
        return Switch(False, 0, 0, f"cannot stat the workspace {workspace}: {e.strerror}")
    uid, gid = st.st_uid, st.st_gid
    if uid == 0:
        return Switch(False, 0, 0, "root owns the workspace")
    for name in COMMAND_FILES:
        value = environ.get(name)
        if value and not _writable_by(Path(value), uid, gid):
            warn(f"staying root: {name} ({value}) is not writable by the workspace owner uid {uid}; files this "
                 "step writes in the workspace will be owned by root")
            return Switch(False, 0, 0, f"{name} not writable by uid {uid}")
    try:
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(uid)
    except OSError as e:
        warn(f"staying root: could not switch to the workspace owner uid {uid} ({e.strerror}); files this step "
             "writes in the workspace will be owned by root")
        return Switch(False, 0, 0, f"setuid refused: {e.strerror}")
    home = os.environ.get("HOME")
    if not home or not os.access(home, os.R_OK | os.X_OK):
        home = tempfile.mkdtemp(prefix="idm-gate-home-")
        atexit.register(shutil.rmtree, home, ignore_errors=True)  # cli.entry runs it before the exit
        os.environ["HOME"] = home
    return Switch(True, uid, gid)
