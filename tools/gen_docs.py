"""Regenerate the generated parts of docs/: the manifest reference and the catalogue of input errors.

    python tools/gen_docs.py            # rewrite docs/manifest.md and the catalogue in docs/troubleshooting.md
    python tools/gen_docs.py --check    # exit 1, naming the file, when either is out of date (tests run this)

The catalogue lists, per module, every message idm-gate raises as an input error (exit 2) or as a
remote service's fault (``RemoteError``, exit 3: a Hub or HTTP server answering 5xx, slowly or oddly):
each call that builds an ``InputError`` or a ``RemoteError`` (directly, or through the helpers
``fail``/``_fail`` of the eval readers, the JSON loader's ``JSONError``, the manifest's ``_problem``,
``HeaderReader.fail``, the ONNX walker's ``bad`` and the LFS reader's ``_err``), and each text a ``describe_*`` function
returns for one (the manifest's schema errors), is read from the source with ``ast``; its message is
the literal text with each ``{...}`` shown as ``…``. The hand-written sections of troubleshooting.md
say what to do; tests/project/test_docs.py checks that each module in the catalogue is covered by one of them.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "idm_gate"
MANIFEST_DOC = ROOT / "docs" / "manifest.md"
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
BEGIN = "<!-- BEGIN generated catalogue: python tools/gen_docs.py -->"
END = "<!-- END generated catalogue -->"

# helper name -> index of the argument holding the message (and of the "what is valid" argument)
HELPERS = {"InputError": (0, None), "RemoteError": (0, None),
           "_problem": (1, None), "fail": (2, 3), "_fail": (2, 3), "JSONError": (2, 3), "_err": (2, None),
           "bad": (0, None)}


def _text(node: ast.AST) -> str | None:
    """A message template: literal text, each interpolation as '…'; None when not built from literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else "…") + (right if right is not None else "…")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
        return "…"
    return None


def messages(path: Path) -> list[tuple[int, str]]:
    """(line, template) for every input error ``path`` raises."""
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # functions that describe a problem for an InputError built elsewhere (manifest.describe_schema_error)
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("describe_"):
            for ret in ast.walk(fn):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    text = _text(ret.value)
                    if text and sum(c.isalpha() for c in text) >= 8:
                        out.append((ret.lineno, " ".join(text.split())))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
        if name not in HELPERS:
            continue
        if name == "fail" and isinstance(f, ast.Attribute):
            msg_i, valid_i = 0, None          # HeaderReader.fail(msg)
        elif name == "_fail" and isinstance(f, ast.Attribute):
            continue                          # the GitHub client's API errors are not input errors
        else:
            msg_i, valid_i = HELPERS[name]
        args = list(node.args)
        if len(args) <= msg_i:
            continue
        text = _text(args[msg_i])
        if text is None:
            continue
        if valid_i is not None and len(args) > valid_i:
            valid = _text(args[valid_i])
            if valid:
                text += "; " + valid
        text = " ".join(text.split())
        if sum(c.isalpha() for c in text) < 8:
            continue  # a wrapper that only forwards its caller's message ('…: … …')
        out.append((node.lineno, text))
    return sorted(set(out))


def catalogue() -> dict[str, list[str]]:
    """Module path (``idm_gate/sizing/gguf.py``) -> its message templates, in source order."""
    cat = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found = messages(path)
        if found:
            seen: list[str] = []
            for _, t in found:
                if t not in seen:
                    seen.append(t)
            cat[path.relative_to(ROOT).as_posix()] = seen
    return cat


def render_catalogue(cat: dict[str, list[str]]) -> str:
    lines = [BEGIN, "", f"{sum(len(v) for v in cat.values())} messages in {len(cat)} modules. `…` stands for what the "
             "message fills in (a file, a field, a value).", ""]
    for module, msgs in cat.items():
        lines += [f"### `{module}`", ""]
        lines += ["- " + m.replace("|", "\\|") for m in msgs]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def manifest_doc() -> str:
    sys.path.insert(0, str(ROOT))
    from idm_gate.manifest import schema
    from idm_gate.schemadoc import render_markdown

    return render_markdown(schema())


def troubleshooting_doc(current: str) -> str:
    if BEGIN not in current or END not in current:
        raise SystemExit(f"{TROUBLESHOOTING}: the markers {BEGIN!r} and {END!r} are missing")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + render_catalogue(catalogue()) + tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report out-of-date files instead of writing them")
    args = ap.parse_args(argv)
    wanted = {MANIFEST_DOC: manifest_doc(),
              TROUBLESHOOTING: troubleshooting_doc(TROUBLESHOOTING.read_text(encoding="utf-8"))}
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} is out of date: run python tools/gen_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.write_text(wanted[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
