"""The HTML leaderboard as a browser shows it: headless Debian ``chromium`` (tests/support/realtools.py) renders the
page idm-gate leaderboard wrote in a real repository with recorded history."""

from __future__ import annotations

from PIL import Image

from gitrepo import make_repo
from realtools import render


def _manifest(extra_percent: float) -> dict:
    models = [{"name": name, "size_bytes": size, "evals": [{"scores": {"arc": pct}, "scale": "percent"}]}
              for name, size, pct in (("acme-tiny", 5 * 10**7, 40.0), ("acme-small", 3 * 10**8, 60.0),
                                      ("acme-base", 10**9, 75.0), ("acme-large", 4 * 10**9, 70.0))]
    models.append({"name": "acme-<b>bold</b>", "size_bytes": 2 * 10**9,
                   "evals": [{"scores": {"arc": extra_percent}, "scale": "percent"}]})
    return {"version": 1, "models": models}


def test_leaderboard_page_renders_with_every_model_and_both_charts(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": _manifest(80.0)})
    assert r.idm("record").returncode == 0
    r.write("idm.yaml", _manifest(85.0))
    r.commit("better")
    assert r.idm("record").returncode == 0
    page = tmp_path / "board.html"
    res = r.idm("leaderboard", "--format", "html", "-o", str(page))
    assert res.returncode == 0, res.stderr
    assert page.read_text().count("<svg") == 2  # the frontier and the two recorded commits' history

    dom, shot = render(page)
    for name in ("acme-tiny", "acme-small", "acme-base", "acme-large", "acme-&lt;b&gt;bold&lt;/b&gt;"):
        assert dom.count(f"<td>{name}</td>") == 1, name  # a row each, the markup shown as text
    assert "<b>bold</b>" not in dom
    assert dom.count("<polyline") == 1 + 5  # the frontier's step line; one history line per model

    img = Image.open(shot).convert("RGB")
    assert img.size == (1000, 1600)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None
    white = sum(n for n, c in colours if c == (255, 255, 255))
    assert white < 0.97 * img.size[0] * img.size[1]  # not a blank page
    # the frontier rows' background (#dafbe1) and the frontier points (#1a7f37) were painted
    painted = {c for _, c in colours}
    assert (0xDA, 0xFB, 0xE1) in painted and (0x1A, 0x7F, 0x37) in painted
