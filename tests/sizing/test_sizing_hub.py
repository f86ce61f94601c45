"""Sizing remote artifacts against a local server that answers like the Hugging Face Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from idm_gate.errors import InputError, RemoteError
from idm_gate.sizing import size_artifacts
from idm_gate.sizing.hub import parse_hf

WHAT = "idm.yaml: models[0].artifacts"
TOKEN = "hf_test_token"
DEEP = 100_000

PAGE1 = [
    {"type": "directory", "oid": "d1", "size": 0, "path": "weights"},
    {"type": "file", "oid": "a1", "size": 1519, "path": ".gitattributes"},
    {"type": "file", "oid": "a2", "size": 650, "path": "config.json"},
    {"type": "file", "oid": "a3", "size": 135,
     "lfs": {"oid": "e" * 64, "size": 4_900_000_000, "pointerSize": 135},
     "path": "model-00001-of-00002.safetensors"},
]
PAGE2 = [
    {"type": "file", "oid": "a4", "size": 134,
     "lfs": {"oid": "f" * 64, "size": 1_100_000_000, "pointerSize": 134},
     "path": "model-00002-of-00002.safetensors"},
    {"type": "file", "oid": "a5", "size": 132,
     "lfs": {"oid": "9" * 64, "size": 2_000_000_000, "pointerSize": 132},
     "path": "weights/q4.gguf"},
]


class Hub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str | None]] = []

    def log_message(self, *a):  # keep test output clean
        pass

    def _json(self, code: int, body, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _record(self) -> tuple[str, dict]:
        u = urlsplit(self.path)
        Hub.seen.append((self.command, self.path, self.headers.get("Authorization")))
        return u.path, parse_qs(u.query)

    def do_GET(self):
        path, q = self._record()
        host = self.headers["Host"]
        if path == "/api/models/acme/tiny/tree/main" and q.get("recursive") == ["true"]:
            if q.get("cursor") == ["p2"]:
                return self._json(200, PAGE2)
            nxt = f"http://{host}/api/models/acme/tiny/tree/main?recursive=true&cursor=p2"
            return self._json(200, PAGE1, {"Link": f'<{nxt}>; rel="next"'})
        if path == "/api/models/acme/tiny/tree/v1.0":
            return self._json(200, PAGE1[:3])
        if path == "/api/models/acme/private/tree/main":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._json(401, {"error": "Invalid credentials"})
            return self._json(200, PAGE2)
        if path == "/api/models/acme/sharded/tree/main":
            # as the Hub lists a sharded checkpoint: the index is a plain (non-LFS) JSON file
            return self._json(200, [*PAGE1[1:], PAGE2[0], {"type": "file", "oid": "a6", "size": 23950,
                                                           "path": "model.safetensors.index.json"}])
        if path == "/api/models/acme/gappy/tree/main":
            return self._json(200, [PAGE1[3], {"type": "file", "oid": "a6", "size": 300,
                                               "path": "model.safetensors.index.json"}])
        if path in ("/acme/sharded/resolve/main/model.safetensors.index.json",
                    "/acme/gappy/resolve/main/model.safetensors.index.json"):
            # served as the Hub serves a small non-LFS file on /resolve: the JSON itself
            return self._json(200, {"metadata": {"total_size": 5_999_990_000}, "weight_map": {
                "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                "lm_head.weight": "model-00002-of-00002.safetensors"}})
        if path == "/api/models/acme/broken/tree/main":
            return self._json(500, {"error": "Internal Error"})
        if path == "/api/models/acme/slow/tree/main":
            time.sleep(1.5)
            return self._json(200, PAGE2)
        if path == "/api/models/acme/badsize/tree/main":
            return self._json(200, [{"type": "file", "path": "m.gguf", "size": "12",
                                     "lfs": {"oid": "0" * 64, "size": "12"}}])
        if path == "/api/models/acme/notjson/tree/main":
            return self._json(200, {"error": "oops"})
        if path == "/api/models/acme/deep/tree/main":
            # valid JSON, as a broken or hostile endpoint could send it: a list nested 100,000 deep
            # (Python's json gives up with RecursionError near 1,000 levels)
            raw = b"[" * DEEP + b"]" * DEEP
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return
        if path == "/api/models/acme/elsewhere/tree/main":
            return self._json(200, PAGE1, {"Link": '<http://evil.invalid/api/x>; rel="next"'})
        return self._json(404, {"error": "Repository not found"})

    def do_HEAD(self):
        path, _ = self._record()
        if path == "/acme/tiny/resolve/main/model.safetensors":
            self.send_response(302)
            self.send_header("Location", "/cdn/blob/abc")
            self.send_header("X-Linked-Size", "4900000000")
            self.send_header("Content-Length", "1234")  # the size of the redirect body, not the file
            self.end_headers()
            return
        if path == "/cdn/blob/abc":
            self.send_response(200)
            self.send_header("Content-Length", "4900000000")
            self.end_headers()
            return
        if path == "/files/model.onnx":
            self.send_response(200)
            self.send_header("Content-Length", "777")
            self.end_headers()
            return
        if path == "/files/odd.bin":
            self.send_response(200)
            self.send_header("X-Linked-Size", "12.5")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/files/boom.bin":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that timed out hung up: expected
        pass


@pytest.fixture(scope="module")
def server():
    srv = _Server(("127.0.0.1", 0), Hub)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def hub(server, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", server)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("IDM_GATE_HTTP_TIMEOUT", "5")
    Hub.seen.clear()
    return server


def size(patterns, tmp_path=Path(".")):
    return size_artifacts(list(patterns), tmp_path, tmp_path, WHAT)


def err(patterns, kind=InputError) -> str:
    with pytest.raises(kind) as ei:
        size(patterns)
    assert type(ei.value) is kind
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith(f"{WHAT}[0]: ")
    return msg


def test_tree_listing_follows_pagination_and_uses_lfs_sizes(hub):
    r = size(["hf://acme/tiny/*.safetensors"])
    assert r.size_bytes == 4_900_000_000 + 1_100_000_000
    assert r.source == "hf-hub" and r.params is None
    assert [a.path for a in r.files] == ["hf://acme/tiny@main/model-00001-of-00002.safetensors",
                                         "hf://acme/tiny@main/model-00002-of-00002.safetensors"]
    assert all(a.format == "safetensors" for a in r.files)
    gets = [p for m, p, _ in Hub.seen if m == "GET"]
    assert gets == ["/api/models/acme/tiny/tree/main?recursive=true",
                    "/api/models/acme/tiny/tree/main?recursive=true&cursor=p2"]


def test_glob_semantics_match_local_globs(hub):
    assert size(["hf://acme/tiny@main/**/*.gguf"]).size_bytes == 2_000_000_000
    # no descent into weights/, no dotfiles: the two shards (4,900,000,000 + 1,100,000,000) and config.json,
    # which a glob leaves out as a local glob does (650 bytes of text, never weights)
    r = size(["hf://acme/tiny@main/[!w]*"])
    assert r.size_bytes == 6_000_000_000
    assert r.notices == ("hf://acme/tiny@main/[!w]*: 1 file(s) left out (not weights: config.json)",)
    # the whole repository holds safetensors shards and a GGUF: the same model twice, refused
    with pytest.raises(InputError, match=r"artifacts: the artifacts hold weights in 2 formats: gguf "
                       r"\('hf://acme/tiny@main/weights/q4.gguf'\); safetensors"):
        size(["hf://acme/tiny@main/**"])
    # named without a glob, a file is counted whatever its name: the user said so
    assert size(["hf://acme/tiny@v1.0/config.json"]).files[0].path == "hf://acme/tiny@v1.0/config.json"


def test_a_hub_glob_that_matches_only_text_files_is_refused(hub):
    assert err(["hf://acme/tiny@main/*.json"]) == (
        f"{WHAT}[0]: 'hf://acme/tiny@main/*.json' matches no weight file, only text files idm-gate leaves out "
        "(hf://acme/tiny@main/config.json); match the weight files (e.g. '*.safetensors'), or give size_bytes")


def test_a_shard_index_on_the_hub_is_never_weight_bytes(hub):
    # 4,900,000,000 + 1,100,000,000 (the two shards' lfs.size); the 23,950-byte index is left out
    res = size(["hf://acme/sharded@main/model*"])
    assert res.size_bytes == 6_000_000_000
    assert res.notices == ("hf://acme/sharded@main/model.safetensors.index.json: a shard index, not weights: "
                           "left out (2 shards counted)",)
    # matched alone, the index is read (a small download) and stands for the shards it names, sized
    # from the tree listing: 4,900,000,000 + 1,100,000,000; config.json beside it is left out
    res = size(["hf://acme/sharded@main/*.json"])
    assert res.size_bytes == 6_000_000_000
    assert res.notices == ("hf://acme/sharded@main/*.json: 1 file(s) left out (not weights: config.json)",)
    assert [(a.path, a.note) for a in res.files] == [
        (f"hf://acme/sharded@main/model-0000{i}-of-00002.safetensors", "shard named by model.safetensors.index.json")
        for i in (1, 2)]
    assert [x[1] for x in Hub.seen[-3:]] == [  # the glob's listing, the index, its folder's listing
        "/api/models/acme/sharded/tree/main?recursive=true", "/acme/sharded/resolve/main/model.safetensors.index.json",
        "/api/models/acme/sharded/tree/main?recursive=true"]
    # a shard the index names that is not in the repository
    assert err(["hf://acme/gappy@main/model.safetensors.index.json"]) == (
        f"{WHAT}[0]: 'hf://acme/gappy@main/model.safetensors.index.json' names shard "
        "'model-00002-of-00002.safetensors', which is not in the repository at that revision (1 of 2 shards present)")


def test_a_hub_index_is_read_under_a_cap(hub, monkeypatch):
    from idm_gate.sizing import layout

    monkeypatch.setattr(layout, "INDEX_CAP", 100)  # the fake's index is about 160 bytes
    assert err(["hf://acme/sharded@main/model.safetensors.index.json"]) == (
        f"{WHAT}[0]: hf://acme/sharded@main/model.safetensors.index.json: over the 100-byte limit for this kind "
        "of file")


def test_no_match_in_repo(hub):
    msg = err(["hf://acme/tiny@v1.0/*.gguf"])
    assert "matches no file in acme/tiny at revision 'v1.0'" in msg


def test_token_is_sent_to_the_hub_only(hub, monkeypatch):
    assert "access denied (HTTP 401); set HF_TOKEN" in err(["hf://acme/private/*.gguf"])
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert size(["hf://acme/private/**/*.gguf"]).size_bytes == 2_000_000_000
    other = hub.replace("127.0.0.1", "localhost")  # same server, another origin
    size([f"{other}/files/model.onnx"])
    assert Hub.seen[-1] == ("HEAD", "/files/model.onnx", None)


def test_missing_repo_is_404(hub):
    assert "not found (HTTP 404); check the repository id and the revision" in err(
        ["hf://acme/nope@main/*.safetensors"])


def test_server_error_is_a_remote_error(hub):
    assert "server error (HTTP 500); retry later" in err(["hf://acme/broken/*.gguf"], RemoteError)


def test_slow_hub_times_out(hub, monkeypatch):
    monkeypatch.setenv("IDM_GATE_HTTP_TIMEOUT", "0.3")
    t0 = time.monotonic()
    msg = err(["hf://acme/slow/*.gguf"], RemoteError)
    assert "no answer within 0.3 s" in msg and "IDM_GATE_HTTP_TIMEOUT" in msg
    assert time.monotonic() - t0 < 1.4


def test_bad_timeout_setting(hub, monkeypatch):
    monkeypatch.setenv("IDM_GATE_HTTP_TIMEOUT", "soon")
    with pytest.raises(InputError, match="IDM_GATE_HTTP_TIMEOUT: 'soon' is not a number"):
        size(["hf://acme/tiny/*.gguf"])


@pytest.mark.parametrize("repo, expect", [
    ("badsize", "gave no integer size"),
    ("notjson", "not a JSON list"),
    ("deep", "not a JSON list"),
    ("elsewhere", "pointed the next page at another host"),
])
def test_malformed_hub_answers(hub, repo, expect):
    assert expect in err([f"hf://acme/{repo}/**"], RemoteError)


def test_a_deeply_nested_hub_answer_is_one_line_exit_3(hub, tmp_path):
    (tmp_path / "idm.yaml").write_text("version: 1\nmodels:\n  - name: m\n    artifacts: ['hf://acme/deep/*.gguf']\n"
                                       "    evals: [{scores: {x: 0.5}}]\n")
    env = {**os.environ, "HF_ENDPOINT": hub, "IDM_GATE_HTTP_TIMEOUT": "5"}
    env.pop("HF_TOKEN", None)
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3, p.stderr  # a RemoteError: the server's fault, retrying may help
    assert p.stderr == ("idm-gate: error: idm.yaml: models[0].artifacts[0]: hf://acme/deep@main: the Hub tree "
                        "answer is not a JSON list; retry later or check HF_ENDPOINT\n")
    assert p.stdout == ""


@pytest.mark.parametrize("pattern", ["hf://acme", "hf://acme/tiny", "hf://acme/tiny@/x.gguf",
                                     "hf://ac me/tiny/x.gguf", "hf://acme/tiny/"])
def test_malformed_hf_addresses(hub, pattern):
    assert "use hf://org/repo@revision/glob" in err([pattern])
    assert Hub.seen == []


def test_parse_hf_defaults_revision_to_main():
    assert parse_hf("hf://acme/tiny/w/*.gguf", WHAT) == ("acme/tiny", "main", "w/*.gguf")
    assert parse_hf("hf://acme/tiny@abc123/x", WHAT) == ("acme/tiny", "abc123", "x")


def test_head_prefers_x_linked_size_across_redirect(hub):
    r = size([f"{hub}/acme/tiny/resolve/main/model.safetensors"])
    (a,) = r.files
    assert (a.size_bytes, a.source, a.format) == (4_900_000_000, "http-head", "safetensors")
    assert [(m, p) for m, p, _ in Hub.seen] == [("HEAD", "/acme/tiny/resolve/main/model.safetensors"),
                                                ("HEAD", "/cdn/blob/abc")]


def test_head_content_length(hub):
    (a,) = size([f"{hub}/files/model.onnx"]).files
    assert (a.size_bytes, a.format) == (777, "onnx")


def test_head_errors(hub):
    assert "not found (HTTP 404); check the URL" in err([f"{hub}/files/missing.bin"])
    assert "server error (HTTP 503)" in err([f"{hub}/files/boom.bin"], RemoteError)
    assert "X-Linked-Size is not an integer" in err([f"{hub}/files/odd.bin"], RemoteError)


def test_connection_refused(monkeypatch):
    monkeypatch.setenv("IDM_GATE_HTTP_TIMEOUT", "2")
    assert "request failed" in err(["http://127.0.0.1:9/x.bin"], RemoteError)


def test_remote_and_local_mix(hub, tmp_path):
    (tmp_path / "tokenizer.json").write_text("{}")
    r = size_artifacts(["tokenizer.json", "hf://acme/tiny/**/*.gguf"], tmp_path, tmp_path, WHAT)
    assert (r.source, r.size_bytes) == ("mixed", 2_000_000_002)
    assert [a.path for a in r.files] == ["hf://acme/tiny@main/weights/q4.gguf", "tokenizer.json"]
