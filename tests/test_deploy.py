"""deploy/: the device install script (runtime only, no TensorFlow), the aarch64 wheelhouse resolution, the
systemd unit and logrotate file, and the emulated-Pi command's argument handling and skip reasons.

The emulation itself is not run here (minutes): `sudo .venv/bin/python -m deploy.emulate_pi`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from deploy import emulate_pi, wheelhouse

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
INSTALL = DEPLOY / "install.sh"
UNIT = DEPLOY / "fer-edge.service"
LOGROTATE = DEPLOY / "fer-edge.logrotate"

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None


def pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/ai-edge-litert/", timeout=8) as r:
            return r.status == 200
    except OSError:
        return False


needs_pypi = pytest.mark.skipif(not pypi_reachable(), reason="PyPI unreachable: pip cannot resolve the wheelhouse")


def _name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


# ------------------------------------------------------------------------------------------ requirements


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_tflite_runtime_path_matches_pyproject() -> None:
    """install.sh and the wheelhouse install the [tflite-runtime] path as: pyproject's runtime dependencies
    without ai-edge-litert, plus the tflite-runtime extra. Keep the three lists in step."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    want = {_name(r) for r in project["dependencies"]} - {"ai-edge-litert"}
    want |= {_name(r) for r in project["optional-dependencies"]["tflite-runtime"]}
    assert {_name(r) for r in wheelhouse.TFLITE_RUNTIME_REQS} == want
    shell = re.search(r"^TFLITE_REQS=\((.*)\)$", INSTALL.read_text(), re.M).group(1)
    assert sorted(re.findall(r'"([^"]+)"', shell)) == sorted(wheelhouse.TFLITE_RUNTIME_REQS)
    assert not any(_name(r) in {"tensorflow", "tf-keras"} for r in project["dependencies"])


# ------------------------------------------------------------------------------------------ wheelhouse


def test_platform_tags_are_listed_one_by_one() -> None:
    tags = wheelhouse.platform_tags("aarch64", "2.36")
    assert tags[0] == "manylinux2014_aarch64"
    for minor in (17, 27, 28, 31, 34, 35, 36):  # 2_34: tflite-runtime 2.14's aarch64 wheel
        assert f"manylinux_2_{minor}_aarch64" in tags
    assert "manylinux_2_37_aarch64" not in tags
    args = wheelhouse.download_args("3.13")
    assert args.count("--platform") == len(tags)
    assert ["--abi", "cp313"] == args[args.index("--abi"):args.index("--abi") + 2]
    assert "--only-binary=:all:" in args
    with pytest.raises(ValueError):
        wheelhouse.platform_tags("aarch64", "2.5")


@needs_pypi
def test_wheelhouse_resolves_for_aarch64_cp311_and_cp313(tmp_path: Path) -> None:
    report = wheelhouse.build(tmp_path / "bundle", ["3.11", "3.13"], log=lambda m: None)
    wheels = {p.name for p in (tmp_path / "bundle" / "wheels").glob("*.whl")}
    assert report["project_wheel"] in wheels and report["project_wheel"].startswith("fer_edge-")
    for tag in ("cp311", "cp313"):
        assert any(w.startswith("ai_edge_litert-") and f"-{tag}-" in w and "aarch64" in w for w in wheels), tag
        assert any(w.startswith("numpy-") and f"-{tag}-" in w and "aarch64" in w for w in wheels), tag
        resolved = report["resolved"][f"{tag}-litert"]
        assert any(w.startswith("opencv_python_headless-") for w in resolved)
    tflite = [w for w in wheels if w.startswith("tflite_runtime-")]
    assert tflite and all("cp311" in w and "manylinux_2_34_aarch64" in w for w in tflite)
    assert any(re.match(r"numpy-1\.\d+\.\d+-cp311-.*aarch64", w) for w in wheels), "numpy<2 for tflite-runtime"
    assert "cp313-tflite-runtime" not in report["resolved"]  # no tflite-runtime wheels after cp311
    assert not any(w.lower().startswith(("tensorflow", "tf_keras", "keras-")) for w in wheels)
    assert (tmp_path / "bundle" / "install.sh").is_file()
    assert (tmp_path / "bundle" / "examples" / "astronaut.jpg").is_file()


def test_wheelhouse_cli_prints_args_and_refuses_bad_python(capsys) -> None:
    assert wheelhouse.main(["--print-args", "3.11"]) == 0
    assert "--platform manylinux_2_34_aarch64" in capsys.readouterr().out
    assert wheelhouse.main(["--python", "three", "--out", "/tmp/never"]) == 2
    assert "error:" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ install.sh


def _sh(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args, words", [
    (["--runtime", "bogus"], "--runtime must be"),
    (["--wheelhouse", "/nonexistent/wheels"], "wheelhouse not found"),
    (["--threads", "0"], "--threads"),
    (["--frobnicate"], "unknown option"),
    (["--python", "/nonexistent/python3"], "not found"),
])
def test_install_script_rejects_bad_arguments_in_one_line(args, words) -> None:
    proc = _sh(*args, "--venv", "/tmp/fer-edge-never-made")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and words in err[0], proc.stderr
    assert not Path("/tmp/fer-edge-never-made").exists()


def test_install_script_help() -> None:
    proc = _sh("--help")
    assert proc.returncode == 0 and "--wheelhouse" in proc.stdout and "tflite-runtime" in proc.stdout


@needs_pypi
def test_install_script_runtime_only_in_a_fresh_venv(referenced_model: Path, tmp_path: Path) -> None:
    """The device path, online: a fresh venv, fer-edge's wheel + runtime deps, no TensorFlow, and the device
    check and fer-edge-run pass on the sample (pip's cache is reused between runs)."""
    wheel = wheelhouse.build_project_wheel(tmp_path / "wheel")
    venv = tmp_path / "venv"
    proc = _sh("--venv", str(venv), "--python", sys.executable, "--package", str(wheel), "--runtime", "litert",
               "--model", str(referenced_model))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "no TensorFlow in the venv; interpreter: ai_edge_litert" in proc.stdout
    assert "device check: PASS" in proc.stdout
    assert any(line.startswith('{"frame"') for line in proc.stdout.splitlines()), proc.stdout[-1500:]
    site = next(venv.glob("lib/python3*/site-packages"))
    installed = {p.name.lower() for p in site.iterdir()}
    assert not any(n.startswith(("tensorflow", "tf_keras", "keras")) for n in installed), installed
    assert any(n.startswith("ai_edge_litert") for n in installed)
    assert (venv / "share" / "fer-edge" / "examples" / "astronaut.jpg").is_file()
    # The installed check finds the sample by itself, from any working directory.
    check = subprocess.run([str(venv / "bin" / "fer-edge-check"), "--model", str(referenced_model), "--repeat", "2"],
                           capture_output=True, text=True, cwd="/", timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    # Reusing the venv is fine and quick (no --no-check: it reruns the check).
    again = _sh("--venv", str(venv), "--python", sys.executable, "--package", str(wheel), "--runtime", "litert",
                "--no-check")
    assert again.returncode == 0 and "reusing venv" in again.stdout


# ------------------------------------------------------------------------------------------ systemd unit


def _unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_unit_runs_the_camera_unprivileged_and_restarts() -> None:
    s = _unit_settings(UNIT.read_text())
    assert s["ExecStart"] == ["/opt/fer-edge/venv/bin/fer-edge-run --camera 0"]
    assert s["Restart"] == ["on-failure"]
    assert s["User"][0] not in ("root", "0") and "video" in s["SupplementaryGroups"][0].split()
    assert s["StandardOutput"][0].startswith("append:/var/log/fer-edge/")
    assert s["WantedBy"] == ["multi-user.target"]
    # The camera must stay reachable: no private /dev, and video4linux explicitly allowed.
    assert s.get("PrivateDevices", ["no"]) == ["no"]
    assert "char-video4linux rw" in s["DeviceAllow"]
    assert "ProtectSystem" in s and "NoNewPrivileges" in s
    assert "MemoryDenyWriteExecute" not in s  # JIT-free today, but not worth a silent crash on a board


def test_logrotate_covers_the_unit_log_with_copytruncate() -> None:
    log_file = _unit_settings(UNIT.read_text())["StandardOutput"][0].split(":", 1)[1]
    text = LOGROTATE.read_text()
    pattern = text.split("{")[0].split("\n")[-1].strip()
    assert Path(log_file).match(pattern), (log_file, pattern)
    assert "copytruncate" in text and re.search(r"^\s*rotate \d+", text, re.M)


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    # verify insists ExecStart exists: point it at a real executable, keep everything else as shipped.
    unit = tmp_path / "fer-edge.service"
    unit.write_text(UNIT.read_text().replace("/opt/fer-edge/venv/bin/fer-edge-run", shutil.which("true")))
    proc = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    mine = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "fer-edge" in ln]
    assert proc.returncode == 0 and not mine, proc.stdout + proc.stderr


def test_logrotate_config_parses(tmp_path: Path) -> None:
    tool = shutil.which("logrotate") or ("/usr/sbin/logrotate" if Path("/usr/sbin/logrotate").exists() else None)
    if tool is None:
        pytest.skip("logrotate not installed")
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "fer-edge.jsonl").write_text('{"frame": 0}\n' * 10)
    conf = tmp_path / "fer-edge.logrotate"
    conf.write_text(LOGROTATE.read_text().replace("/var/log/fer-edge", str(logs)))
    proc = subprocess.run([tool, "--debug", "--state", str(tmp_path / "state"), str(conf)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "error" not in proc.stderr.lower(), proc.stderr


# ------------------------------------------------------------------------------------------ emulate_pi


def test_emulate_pi_rejects_bad_arguments(capsys) -> None:
    assert emulate_pi.main(["--frames", "0"]) == 2
    assert emulate_pi.main(["--model", "/nonexistent/model.tflite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(ln.startswith("emulate_pi: error:") for ln in err)
    with pytest.raises(SystemExit):
        emulate_pi.main(["--interpreter", "tensorflow"])


def test_emulate_pi_skips_when_not_root(monkeypatch, capsys) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert emulate_pi.main(["--check"]) == emulate_pi.SKIP
    assert "skipped: not root" in capsys.readouterr().out


def test_emulate_pi_skip_reasons(monkeypatch, tmp_path: Path) -> None:
    empty = tmp_path / "no-rootfs"
    assert "not root" in emulate_pi.skip_reason(empty, euid=1000)
    if sys.platform != "linux":
        return
    monkeypatch.setattr(emulate_pi, "native_aarch64", lambda: False)
    monkeypatch.setattr(emulate_pi.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(emulate_pi, "QEMU_CANDIDATES", ())
    assert "no qemu" in emulate_pi.skip_reason(empty, euid=0, setup=False)
    monkeypatch.setattr(emulate_pi, "QEMU_CANDIDATES", (str(INSTALL),))  # any file that exists
    monkeypatch.setattr(emulate_pi, "binfmt_enabled", lambda: False)
    assert "binfmt" in emulate_pi.skip_reason(empty, euid=0, setup=False)
    monkeypatch.setattr(emulate_pi, "binfmt_enabled", lambda: True)
    monkeypatch.setattr(emulate_pi.shutil, "which", lambda name: None if name == "debootstrap" else "/bin/" + name)
    assert "debootstrap" in emulate_pi.skip_reason(empty, euid=0, setup=False)
    monkeypatch.setattr(emulate_pi.shutil, "which", lambda name: "/bin/" + name)
    assert emulate_pi.skip_reason(empty, euid=0, setup=False) is None


def test_emulate_pi_comparisons() -> None:
    host = {"frames": [{"name": "a", "boxes": [[1, 2, 3, 4]], "raw": [[-128, 0, 5, 127]], "crop_md5": ["x"]}]}
    same = json.loads(json.dumps(host))
    assert emulate_pi.compare_probe(host, same)["exact"]
    step = json.loads(json.dumps(host))
    step["frames"][0]["raw"][0][2] = 6
    r = emulate_pi.compare_probe(host, step)
    assert r["ok"] and not r["exact"] and r["max_steps"] == 1
    step["frames"][0]["raw"][0][2] = 8
    assert not emulate_pi.compare_probe(host, step)["ok"]
    moved = json.loads(json.dumps(host))
    moved["frames"][0]["boxes"] = [[2, 2, 3, 4]]
    assert not emulate_pi.compare_probe(host, moved)["ok"]
    # A frame decoded on each side may differ (FFmpeg builds): reported, not a failure.
    video = json.loads(json.dumps(host))
    video["frames"].append({"name": "clip.mp4#0", "frame_md5": "a", "boxes": [[10, 10, 100, 100]], "raw": [[0] * 4],
                            "crop_md5": ["y"]})
    other = json.loads(json.dumps(video))
    other["frames"][1].update(frame_md5="b", boxes=[[11, 10, 100, 100]], raw=[[9] * 4])
    r = emulate_pi.compare_probe(video, other)
    assert r["ok"] and r["video_decoded"]["same_pixels"] == 0 and 0.9 < r["video_decoded"]["min_iou"] < 1
    lines = '{"frame": 0, "track": 1, "box": [1, 2, 3, 4], "label": "happy"}\nnot json\n'
    assert emulate_pi.compare_labels(emulate_pi.parse_lines(lines), emulate_pi.parse_lines(lines))["equal"]
    assert not emulate_pi.compare_labels(emulate_pi.parse_lines(lines), [])["equal"]
    ok = subprocess.CompletedProcess([], 2, "", "INFO: Created delegate\nfer-edge-run: error: no such file\n")
    assert emulate_pi.one_line_error(ok)["ok"]
    trace = subprocess.CompletedProcess([], 1, "", "Traceback (most recent call last):\nValueError: x\n")
    assert not emulate_pi.one_line_error(trace)["ok"]


def test_apt_mirror_is_an_http_url() -> None:
    assert emulate_pi.apt_mirror().startswith(("http://", "https://"))
