"""The glob walk's last component: which names match, the kind of each match, and the scan cap."""

from __future__ import annotations

import fnmatch
import os

import pytest

from idm_gate.sizing._glob import iter_glob_kinds

NAMES = ["model-00001-of-00002.safetensors", "model.safetensors", ".safetensors", ".hidden.safetensors",
         "x.SAFETENSORS", "x.safetensors.bak", "safetensors", "a.b.safetensors", "notes.txt", "w.bin"]


class Capped(Exception):
    pass


def cap_error(n: int) -> Exception:
    return Capped(n)


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "w"
    d.mkdir()
    for n in NAMES:
        (d / n).write_bytes(b"x")
    (d / "sub.safetensors").mkdir()  # a folder whose name matches
    (d / "link.safetensors").symlink_to(d / "model.safetensors")
    return tmp_path


@pytest.mark.parametrize("part", ["*.safetensors", "*", "*.SAFETENSORS", "*.saf*", "model*", "?.safetensors",
                                  ".*", "*-of-00002.safetensors", "[mx]*"])
def test_last_component_matches_as_fnmatchcase_with_hidden_names_for_dot_patterns_only(folder, part):
    got = dict(iter_glob_kinds(str(folder), f"w/{part}", 1_000, cap_error))
    names = [*NAMES, "sub.safetensors", "link.safetensors"]
    # glob.glob's rule: fnmatchcase on the name, and a name starting with '.' only for a pattern that does
    want = {f"w/{n}" for n in names if fnmatch.fnmatchcase(n, part) and (part.startswith(".") or not n.startswith("."))}
    assert set(got) == want
    # the kind comes from the directory entry, symlinks not followed: a link is neither file nor dir
    kinds = {"w/sub.safetensors": "dir", "w/link.safetensors": None}
    assert {rel: k for rel, k in got.items()} == {rel: kinds.get(rel, "file") for rel in want}


def test_scan_cap_counts_every_entry_looked_at_across_folders(tmp_path):
    for m in ("a", "b"):
        (tmp_path / m).mkdir()
        for i in range(3):
            (tmp_path / m / f"s{i}.safetensors").write_bytes(b"x")
        (tmp_path / m / "notes.txt").write_bytes(b"x")  # looked at, though it does not match
    # 8 entries under the two folders, 2 folders above: a cap of 10 is enough, 9 is not
    assert len(list(iter_glob_kinds(str(tmp_path), "*/*.safetensors", 10, cap_error))) == 6
    with pytest.raises(Capped) as e:
        list(iter_glob_kinds(str(tmp_path), "*/*.safetensors", 9, cap_error))
    assert e.value.args == (9,)
    # one folder's 4 entries against a cap of 3: refused inside the last component's own loop
    with pytest.raises(Capped):
        list(iter_glob_kinds(str(tmp_path), "a/*.safetensors", 3, cap_error))
    assert len(list(iter_glob_kinds(str(tmp_path), "a/*.safetensors", 4, cap_error))) == 3


def test_a_folder_that_cannot_be_listed_matches_nothing(tmp_path):
    assert list(iter_glob_kinds(str(tmp_path), "missing/*.safetensors", 10, cap_error)) == []
    (tmp_path / "f").write_bytes(b"x")  # a file where a folder is expected
    assert list(iter_glob_kinds(os.path.join(tmp_path, "f"), "*.safetensors", 10, cap_error)) == []
