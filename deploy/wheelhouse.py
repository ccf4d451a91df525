"""Build, on a desktop with internet, everything an offline 64-bit Pi needs: an aarch64 wheelhouse bundle.

    python -m deploy.wheelhouse                       # cp311 + cp313, -> dist/fer-edge-aarch64/
    python -m deploy.wheelhouse --python 3.11 --out /media/usb/fer-edge

The bundle holds the project's own wheel (with the shipped model inside), every runtime dependency as an
aarch64 binary wheel for each Python version asked for (ai-edge-litert path), the `[tflite-runtime]` path
(tflite-runtime 2.14 + numpy<2 + an OpenCV built for numpy 1.x) for Python <= 3.11, the device install script,
the systemd unit and logrotate file, and the sample images the device check uses. On the device:

    bash fer-edge-aarch64/install.sh --wheelhouse fer-edge-aarch64

pip never widens `--platform`: each manylinux tag the device's glibc accepts is listed one by one
(manylinux2014 = 2_17 up to the device's glibc; Bookworm has 2.36, tflite-runtime's wheel needs 2.34).
No TensorFlow is ever downloaded; the script refuses a resolution that contains it.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "dist" / "fer-edge-aarch64"
DEFAULT_PYTHONS = ("3.11", "3.13")
BOOKWORM_GLIBC = "2.36"
TFLITE_RUNTIME_MAX_PY = (3, 11)  # no tflite-runtime wheels after cp311
# The [tflite-runtime] path: the runtime deps without ai-edge-litert, plus tflite-runtime with numpy<2
# (kept equal to pyproject's dependencies + the tflite-runtime extra; tests/test_deploy.py checks it).
TFLITE_RUNTIME_REQS = ("tflite-runtime==2.14.*", "numpy>=1.23,<2", "opencv-python-headless>=4.9,<5")
FORBIDDEN = ("tensorflow", "tf_keras", "tf-keras", "keras")
BUNDLE_FILES = ("install.sh", "fer-edge.service", "fer-edge.logrotate", "README.md", "CORAL.md")


def platform_tags(arch: str = "aarch64", glibc: str = BOOKWORM_GLIBC) -> list[str]:
    """Every manylinux tag a device with this glibc accepts, oldest first; pip needs each one spelled out."""
    major, minor = (int(x) for x in glibc.split("."))
    if major != 2 or minor < 17:
        raise ValueError(f"glibc {glibc}: need 2.17 or newer")
    tags = [f"manylinux2014_{arch}"]
    tags += [f"manylinux_2_{m}_{arch}" for m in range(17, minor + 1)]
    return tags


def download_args(python: str, glibc: str = BOOKWORM_GLIBC, arch: str = "aarch64") -> list[str]:
    """The `pip download` options that resolve for another Python version and platform (binary wheels only)."""
    nodot = python.replace(".", "")
    args = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp", "--abi", f"cp{nodot}"]
    for tag in platform_tags(arch, glibc):
        args += ["--platform", tag]
    return args


def _py_tuple(python: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)", python)
    if not m:
        raise ValueError(f"--python {python!r}: expected MAJOR.MINOR like 3.11")
    return int(m.group(1)), int(m.group(2))


def build_project_wheel(out: Path, python: str = sys.executable) -> Path:
    """The project's own wheel (pure Python + the shipped model), built from a clean copy of the sources."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("fer_edge-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="fer-edge-src-") as tmp:
        src = Path(tmp)
        shutil.copy2(REPO / "pyproject.toml", src / "pyproject.toml")
        readme = REPO / "README.md"
        if readme.is_file():
            shutil.copy2(readme, src / "README.md")
        else:  # pyproject names a readme; the build fails without one
            (src / "README.md").write_text("fer-edge\n", encoding="utf-8")
        shutil.copytree(REPO / "fer_edge", src / "fer_edge",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        base = [python, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)]
        # Offline-friendly first (uses this Python's setuptools), then with build isolation.
        run = subprocess.run(base[:5] + ["--no-build-isolation"] + base[5:], capture_output=True, text=True)
        if run.returncode != 0:
            run = subprocess.run(base, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"error: building the fer-edge wheel failed: {_last_line(run.stderr)}")
    wheels = sorted(out.glob("fer_edge-*.whl"))
    if not wheels:
        raise SystemExit("error: pip wheel made no fer_edge-*.whl")
    return wheels[-1]


def pip_download(reqs: list[str], out: Path, python: str, glibc: str, pip: list[str]) -> list[str]:
    """Download `reqs` and their dependencies for (python, aarch64); return the wheel names pip resolved."""
    cmd = pip + ["download", "--disable-pip-version-check", "--progress-bar", "off", "-d", str(out)]
    cmd += download_args(python, glibc) + list(reqs)
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"error: pip download for cp{python.replace('.', '')} aarch64 failed: "
                         f"{_last_line(run.stderr or run.stdout)}")
    # pip logs every file it looked at; when it backtracked, the last file of a project is the one it kept.
    chosen: dict[str, str] = {}
    for found in re.findall(r"(?:Saved|File was already downloaded) (\S+\.whl)", run.stdout):
        name = Path(found).name
        chosen[name.split("-")[0].lower()] = name
    return sorted(chosen.values())


def _check_no_tensorflow(names: list[str]) -> None:
    bad = [n for n in names if n.split("-")[0].lower().replace("_", "-") in {f.replace("_", "-") for f in FORBIDDEN}]
    if bad:
        raise SystemExit(f"error: the runtime resolution pulled TensorFlow/Keras in: {', '.join(bad)}")


def build(out: Path, pythons: list[str], glibc: str = BOOKWORM_GLIBC, tflite_runtime: bool = True,
          project: bool = True, pip: list[str] | None = None, log=print) -> dict:
    pip = pip or [sys.executable, "-m", "pip"]
    out.mkdir(parents=True, exist_ok=True)
    wheels_dir = out / "wheels"
    wheels_dir.mkdir(exist_ok=True)
    report: dict = {"out": str(out), "glibc": glibc, "resolved": {}, "seconds": {}}
    t0 = time.perf_counter()
    wheel = None
    if project:
        wheel = build_project_wheel(wheels_dir)
        report["project_wheel"] = wheel.name
        report["seconds"]["project_wheel"] = round(time.perf_counter() - t0, 1)
        log(f"project wheel: {wheel.name} ({report['seconds']['project_wheel']} s)")
    for python in pythons:
        version = _py_tuple(python)
        tag = f"cp{python.replace('.', '')}"
        t1 = time.perf_counter()
        reqs = [str(wheel)] if wheel else ["numpy>=1.23", "opencv-python-headless>=4.9,<5", "ai-edge-litert>=1.2"]
        names = pip_download(reqs, wheels_dir, python, glibc, pip)
        _check_no_tensorflow(names)
        report["resolved"][f"{tag}-litert"] = names
        if tflite_runtime and version <= TFLITE_RUNTIME_MAX_PY:
            names = pip_download(list(TFLITE_RUNTIME_REQS), wheels_dir, python, glibc, pip)
            _check_no_tensorflow(names)
            report["resolved"][f"{tag}-tflite-runtime"] = names
        report["seconds"][tag] = round(time.perf_counter() - t1, 1)
        log(f"{tag} aarch64: {', '.join(report['resolved'][f'{tag}-litert'])} ({report['seconds'][tag]} s)")
        if f"{tag}-tflite-runtime" in report["resolved"]:
            log(f"{tag} aarch64 [tflite-runtime]: {', '.join(report['resolved'][f'{tag}-tflite-runtime'])}")
    here = Path(__file__).resolve().parent
    for name in BUNDLE_FILES:
        if (here / name).is_file():
            shutil.copy2(here / name, out / name)
    examples = REPO / "examples"
    if examples.is_dir():
        (out / "examples").mkdir(exist_ok=True)
        for f in examples.iterdir():
            if f.suffix.lower() in {".jpg", ".jpeg", ".png", ".mp4"}:
                shutil.copy2(f, out / "examples" / f.name)
    report["seconds"]["total"] = round(time.perf_counter() - t0, 1)
    return report


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.lower().startswith("error"):
            return ln
    return lines[-1] if lines else "no output"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy.wheelhouse", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"bundle folder (default {DEFAULT_OUT})")
    p.add_argument("--python", action="append", help="target Python MAJOR.MINOR, repeatable (default 3.11, 3.13)")
    p.add_argument("--glibc", default=BOOKWORM_GLIBC, help="device glibc (default 2.36, Debian Bookworm)")
    p.add_argument("--no-tflite-runtime", action="store_true", help="skip the [tflite-runtime] path")
    p.add_argument("--print-args", metavar="PY", help="only print the pip download options for PY and exit")
    a = p.parse_args(argv)
    try:
        if a.print_args:
            print(" ".join(download_args(a.print_args, a.glibc)))
            return 0
        pythons = a.python or list(DEFAULT_PYTHONS)
        for py in pythons:
            _py_tuple(py)
        build(a.out, pythons, a.glibc, tflite_runtime=not a.no_tflite_runtime)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 1
        raise
    print(f"bundle ready: {a.out}  (on the device: bash {a.out.name}/install.sh --wheelhouse {a.out.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
