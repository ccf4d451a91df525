"""Prove the Raspberry Pi path here: run the device package on an emulated 64-bit Pi OS (Debian Bookworm
aarch64, Python 3.11) under qemu user-mode emulation, for both interpreters.

    sudo .venv/bin/python -m deploy.emulate_pi            # the shipped model (or --model PATH)
    python -m deploy.emulate_pi --check                   # only say whether it can run here, and why not

Steps, each timed:
 1. an aarch64 Bookworm root file system: reused from the cache (deploy/.cache/rootfs-bookworm-arm64), or made
    with debootstrap (about 8 minutes, most of it emulated);
 2. the runtime wheelhouse for cp311 aarch64 and the project's own wheel (python -m deploy.wheelhouse);
 3. host (x86-64) runs: raw outputs on every face of the samples, `fer-edge-run --image/--video` labels,
    bad-input errors;
 4. inside the root file system with no network (`unshare --net`): deploy/install.sh --wheelhouse for
    `--runtime litert` (ai-edge-litert) and `--runtime tflite` (tflite-runtime 2.14, numpy<2), each in a fresh
    venv, no TensorFlow; then fer-edge-check against the x86-64 reference (within one step; 0 = exact), the
    same raw-output probe, the same fer-edge-run runs (labels compared with the host), the same bad inputs.
Emulated latency is printed as a sanity figure only: qemu is tens of times slower than a Cortex-A72.

Exit 0 when everything matched, 1 on a mismatch, 2 on a usage error, 77 when it cannot run here (not root,
no qemu, no binfmt_misc, no debootstrap and no cached root file system); the reason is printed in one line.
Not part of the unit tests (minutes); tests/test_deploy.py checks its argument handling and skip reasons.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
DEFAULT_ROOTFS = CACHE / "rootfs-bookworm-arm64"
SHIPPED_MODEL = REPO / "fer_edge" / "models" / "fer_int8.tflite"
EMU = "/opt/fer-edge-emu"  # staging folder inside the root file system
SKIP = 77
PACKAGES = "python3,python3-venv,python3-pip,libgl1,libglib2.0-0"
QEMU_CANDIDATES = ("/usr/bin/qemu-aarch64-static", "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
                   "/usr/bin/qemu-aarch64")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KINDS = {"litert": "ai_edge_litert", "tflite": "tflite_runtime"}


class Skip(Exception):
    """This machine cannot run the emulation; the message says why and how to fix it."""


# --------------------------------------------------------------------------------------------- preflight


def native_aarch64() -> bool:
    return platform.machine().lower() in {"aarch64", "arm64"}


def binfmt_enabled() -> bool:
    entry = BINFMT / "qemu-aarch64"
    try:
        return entry.read_text().splitlines()[0].strip() == "enabled"
    except (OSError, IndexError):
        return False


def ensure_binfmt() -> None:
    """Mount binfmt_misc and enable qemu-aarch64 when possible (root, binfmt-support installed)."""
    if binfmt_enabled():
        return
    if not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], capture_output=True)
    if not binfmt_enabled() and shutil.which("update-binfmts"):
        subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], capture_output=True)


def skip_reason(rootfs: Path, euid: int | None = None, setup: bool = True) -> str | None:
    """Why the emulation cannot run here, or None when it can."""
    euid = os.geteuid() if euid is None else euid
    if sys.platform != "linux":
        return f"needs Linux (chroot, binfmt_misc), this is {sys.platform}"
    if euid != 0:
        return "not root: chroot, mounts and debootstrap need root (sudo .venv/bin/python -m deploy.emulate_pi)"
    if not shutil.which("chroot"):
        return "no chroot command (coreutils)"
    if not native_aarch64():
        if not any(Path(p).exists() for p in QEMU_CANDIDATES):
            return "no qemu user-mode emulator for aarch64 (apt-get install qemu-user-static binfmt-support)"
        if setup:
            ensure_binfmt()
        if not binfmt_enabled():
            return ("no binfmt_misc support for aarch64 (mount -t binfmt_misc binfmt_misc "
                    "/proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64)")
    if not rootfs_ready(rootfs) and not shutil.which("debootstrap"):
        return f"no cached root file system at {rootfs} and no debootstrap (apt-get install debootstrap)"
    return None


def rootfs_ready(rootfs: Path) -> bool:
    """A finished root file system with Python and its venv module (debootstrap renames .partial at the end)."""
    return (rootfs / "usr" / "bin" / "python3").exists() and any((rootfs / "usr" / "lib").glob("python3.*/venv/__init__.py"))


def apt_mirror() -> str:
    """The Debian archive apt already uses here (deb.debian.org when none is found)."""
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            texts.append(path.read_text())
        except OSError:
            continue
    for text in texts:
        for url in re.findall(r"^\s*URIs:\s*(\S+)", text, re.M) + re.findall(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)",
                                                                                text, re.M):
            if "security" not in url and url.startswith(("http://", "https://")):
                return url
    return "http://deb.debian.org/debian"


# --------------------------------------------------------------------------------------------- chroot


def mounted_under(rootfs: Path) -> list[str]:
    root = str(rootfs.resolve())
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return []
    points = [ln.split()[1].replace("\\040", " ") for ln in lines if len(ln.split()) > 1]
    return [p for p in points if p == root or p.startswith(root + "/")]


@contextmanager
def chroot_mounts(rootfs: Path):
    """/proc and /dev inside the root file system for the duration; always unmounted. Not /sys: with the host's
    x86 /sys and /proc/cpuinfo both visible, ai-edge-litert's cpuinfo takes an ARM code path on x86 data and
    segfaults under qemu-user; without /sys it prints one "Error in cpuinfo" line and runs."""
    done: list[Path] = []
    plan = [(["-t", "proc", "proc"], "proc"), (["--bind", "/dev"], "dev")]
    try:
        for opts, sub in plan:
            target = rootfs / sub
            target.mkdir(exist_ok=True)
            if str(target.resolve()) in mounted_under(rootfs):
                continue
            if subprocess.run(["mount", *opts, str(target)], capture_output=True).returncode == 0:
                done.append(target)
        yield
    finally:
        for target in reversed(done):
            if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(target)], capture_output=True)


def netless_prefix() -> list[str]:
    """`unshare --net` when this kernel/container allows it: the device install must not touch a network."""
    if shutil.which("unshare") and subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0:
        return ["unshare", "--net"]
    return []


class Chroot:
    def __init__(self, rootfs: Path, timeout: int = 1800) -> None:
        self.rootfs = rootfs
        self.prefix = netless_prefix()
        self.timeout = timeout

    @property
    def network(self) -> str:
        return "none (unshare --net)" if self.prefix else "host network visible (unshare unavailable); pip --no-index"

    def run(self, script: str, timeout: int | None = None) -> subprocess.CompletedProcess:
        argv = [*self.prefix, "chroot", str(self.rootfs), "/usr/bin/env", "-i", f"PATH={CHROOT_PATH}",
                "HOME=/root", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "/bin/bash", "-c", script]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(argv, 124, exc.stdout or "", f"timed out after {exc.timeout} s")

    def path(self, inside: str) -> Path:
        return self.rootfs / inside.lstrip("/")


def build_rootfs(rootfs: Path, mirror: str, log) -> None:
    partial = rootfs.with_name(rootfs.name + ".partial")
    if mounted_under(partial):
        raise RuntimeError(f"{partial} has mounts under it; unmount them first")
    if partial.exists():
        shutil.rmtree(partial)
    log(f"debootstrap arm64 bookworm into {partial} from {mirror} (about 8 minutes)")
    cmd = ["debootstrap", "--arch=arm64", "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(partial),
           mirror]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"debootstrap failed: {' / '.join(tail)}")
    partial.rename(rootfs)


# --------------------------------------------------------------------------------------------- comparisons


def parse_lines(stdout: str) -> list[tuple]:
    """(frame, track, box, label) per JSON result line."""
    rows = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        rows.append((rec.get("frame"), rec.get("track"), tuple(rec.get("box") or ()), rec.get("label")))
    return rows


def compare_probe(host: dict, emu: dict) -> dict:
    """Still images (the samples and video frames saved losslessly on the host) are the strict test: same
    pixels in, so boxes and crops must be identical and raw outputs equal or within one quantisation step.
    Frames decoded from the video on each side (name `clip.mp4#i`) are reported, not required to match: the
    aarch64 OpenCV/FFmpeg build decodes and colour-converts with different rounding."""
    stills = [(h, e) for h, e in zip(host["frames"], emu["frames"]) if "#" not in h["name"]]
    decoded = [(h, e) for h, e in zip(host["frames"], emu["frames"]) if "#" in h["name"]]
    faces = same_crops = 0
    worst = 0
    notes = []
    for h, e in stills:
        if h["boxes"] != e["boxes"]:
            notes.append(f"{h['name']}: boxes {h['boxes']} vs {e['boxes']}")
            continue
        same_crops += h["crop_md5"] == e["crop_md5"]
        for hr, er in zip(h["raw"], e["raw"]):
            faces += 1
            worst = max(worst, max((abs(a - b) for a, b in zip(hr, er)), default=0))
    if len(host["frames"]) != len(emu["frames"]):
        notes.append(f"{len(host['frames'])} host frames vs {len(emu['frames'])} emulated")
    ok = not notes and worst <= 1
    video = {"frames": len(decoded), "same_pixels": sum(h.get("frame_md5") == e.get("frame_md5") for h, e in decoded),
             "same_boxes": sum(h["boxes"] == e["boxes"] for h, e in decoded),
             "min_iou": min((_iou(a, b) for h, e in decoded for a, b in zip(h["boxes"], e["boxes"])), default=1.0),
             "same_face_count": all(len(h["boxes"]) == len(e["boxes"]) for h, e in decoded)}
    return {"stills": len(stills), "stills_same_crops": same_crops, "faces": faces, "max_steps": worst,
            "exact": ok and worst == 0, "ok": ok, "notes": notes, "video_decoded": video}


def _iou(a, b) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    union = a[2] * a[3] + b[2] * b[3] - iw * ih
    return round(iw * ih / union, 3) if union else 0.0


def save_frames(video: Path, folder: Path, count: int) -> list[Path]:
    """The first `count` frames of the video as lossless PNGs, so both sides classify the very same pixels."""
    import cv2

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    cap = cv2.VideoCapture(str(video))
    paths = []
    for i in range(count):
        ok, frame = cap.read()
        if not ok:
            break
        paths.append(folder / f"frame_{i:03d}.png")
        cv2.imwrite(str(paths[-1]), frame)
    cap.release()
    return paths


def compare_labels(host: list[tuple], emu: list[tuple], proc: subprocess.CompletedProcess | None = None,
                   boxes: bool = True) -> dict:
    """Rows (frame, track, box, label) equal; with boxes=False only (frame, track, label)."""
    if not boxes:
        host, emu = [(f, t, lab) for f, t, _, lab in host], [(f, t, lab) for f, t, _, lab in emu]
    diff = [f"{h} vs {e}" for h, e in zip(host, emu) if h != e]
    if proc is not None and proc.returncode != 0:
        diff.insert(0, f"exit {proc.returncode}: {_last_line(proc.stderr)}")
    if len(host) != len(emu):
        diff.append(f"{len(host)} host lines vs {len(emu)} emulated")
    return {"lines": len(host), "equal": not diff and bool(host), "diff": diff[:3]}


def _last_line(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][-300:] if lines else ""


def one_line_error(proc: subprocess.CompletedProcess) -> dict:
    errors = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    ok = proc.returncode == 2 and len(errors) == 1 and "Traceback" not in proc.stderr
    return {"rc": proc.returncode, "error": errors[0] if errors else proc.stderr.strip()[-200:], "ok": ok}


# --------------------------------------------------------------------------------------------- the run


class Emulation:
    def __init__(self, args: argparse.Namespace, log=functools.partial(print, flush=True)) -> None:
        self.args = args
        self.log = log
        self.rootfs = Path(args.rootfs).resolve()
        self.report: dict = {"steps": {}, "interpreters": {}, "ok": True}
        self.images = [REPO / "examples" / "astronaut.jpg", REPO / "examples" / "group.jpg"]
        self.video = REPO / "examples" / "astronaut.mp4"
        self.frames: list[Path] = []  # the video's first frames as PNG, made in run()

    def step(self, name: str, t0: float) -> float:
        seconds = round(time.perf_counter() - t0, 1)
        self.report["steps"][name] = seconds
        self.log(f"[{seconds:7.1f} s] {name}")
        return seconds

    # -- model
    def prepare_model(self) -> tuple[Path, str | None]:
        """(host model path, model argument inside the root file system or None for the shipped default)."""
        stage = CACHE / "emu-model"
        stage.mkdir(parents=True, exist_ok=True)
        if self.args.model:
            src = Path(self.args.model).resolve()
            kind = "given"
        elif SHIPPED_MODEL.is_file():
            src = SHIPPED_MODEL
            kind = "shipped"
        else:
            raise RuntimeError(f"no model: {SHIPPED_MODEL} is not shipped yet "
                                 "(python -m quantize.int8 runs/final --ship) and no --model was given")
        self.report["model"] = {"path": str(src), "kind": kind}
        card = json.loads(src.with_suffix(".json").read_text())
        if kind == "shipped" and card.get("reference"):
            self.report["model"]["reference"] = "recorded when the model was made"
            return src, None
        from fer_edge.selfcheck import record_reference

        if not card.get("reference"):
            card["reference"] = record_reference(src, self.images[0])
            self.report["model"]["reference"] = "recorded here on x86-64 (the sidecar had none)"
        else:
            self.report["model"]["reference"] = "recorded when the model was made"
        dst = stage / src.name
        shutil.copy2(src, dst)
        dst.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
        return dst, f"{EMU}/model/{dst.name}"

    # -- host side
    def host_runs(self, model: Path) -> dict:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        py = [sys.executable]
        probe = subprocess.run(py + [str(HERE / "emu_probe.py"), str(model), *map(str, self.images + self.frames),
                                     "--video", str(self.video), "--frames", str(self.args.frames)],
                               capture_output=True, text=True, env=env, cwd=REPO)
        if probe.returncode != 0:
            raise RuntimeError(f"host probe failed: {probe.stderr.strip().splitlines()[-1:]}")
        run = py + ["-m", "fer_edge", "--model", str(model)]
        image = subprocess.run(run + ["--image", *map(str, self.images + self.frames)], capture_output=True, text=True,
                               env=env)
        video = subprocess.run(run + ["--video", str(self.video), "--max-frames", str(self.args.frames)],
                               capture_output=True, text=True, env=env)
        check = subprocess.run(py + ["-m", "fer_edge.selfcheck", "--model", str(model), "--repeat", "20"],
                               capture_output=True, text=True, env=env)
        for name, proc in (("fer-edge-run --image", image), ("fer-edge-run --video", video)):
            if proc.returncode != 0:
                raise RuntimeError(f"host {name} failed: {proc.stderr.strip().splitlines()[-1:]}")
        latency = re.search(r"per face ([\d.]+) ms", check.stdout)
        return {"probe": json.loads(probe.stdout), "image": parse_lines(image.stdout),
                "video": parse_lines(video.stdout), "check_rc": check.returncode,
                "per_face_ms": float(latency.group(1)) if latency else None}

    def bad_inputs(self, model_arg: str, sample: str, bad_dir: str) -> dict[str, list[str]]:
        run = f"fer-edge-run --model {model_arg}"
        return {
            "missing image": [*run.split(), "--image", "/nonexistent/face.jpg"],
            "not an image": [*run.split(), "--image", f"{bad_dir}/not-an-image.jpg"],
            "missing video": [*run.split(), "--video", "/nonexistent/clip.mp4"],
            "no camera": [*run.split(), "--camera", "9", "--max-frames", "1"],
            "missing model": ["fer-edge-run", "--model", "/nonexistent/model.tflite", "--image", sample],
            "truncated model": ["fer-edge-run", "--model", f"{bad_dir}/truncated.tflite", "--image", sample],
            "check: missing model": ["fer-edge-check", "--model", "/nonexistent/model.tflite"],
        }

    def write_bad_files(self, folder: Path, model: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "not-an-image.jpg").write_text("this is text, not a JPEG\n")
        (folder / "truncated.tflite").write_bytes(model.read_bytes()[:200])
        shutil.copy2(model.with_suffix(".json"), folder / "truncated.json")

    # -- device side
    def stage(self, chroot: Chroot, model: Path, model_arg: str | None, wheelhouse: Path) -> None:
        emu = chroot.path(EMU)
        if mounted_under(emu):
            raise RuntimeError(f"{emu} has mounts under it")
        if emu.exists():
            for child in emu.iterdir():
                if self.args.reuse_venvs and child.name.startswith("venv-"):
                    continue  # --reuse-venvs: install.sh reuses them (quicker reruns, not a fresh install)
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        shutil.copytree(wheelhouse, emu, dirs_exist_ok=True)
        shutil.copy2(HERE / "install.sh", emu / "install.sh")
        shutil.copy2(HERE / "emu_probe.py", emu / "emu_probe.py")
        (emu / "frames").mkdir(exist_ok=True)
        for frame in self.frames:
            shutil.copy2(frame, emu / "frames" / frame.name)
        if model_arg:
            (emu / "model").mkdir()
            shutil.copy2(model, emu / "model" / model.name)
            shutil.copy2(model.with_suffix(".json"), emu / "model" / model.with_suffix(".json").name)
        self.write_bad_files(emu / "bad", model)

    def device_runs(self, chroot: Chroot, kind: str, model_arg: str | None, host: dict) -> dict:
        venv = f"{EMU}/venv-{kind}"
        out: dict = {"steps": {}}
        marg = f"--model {model_arg}" if model_arg else ""
        probe_model = model_arg or "shipped"
        images = " ".join([f"{EMU}/examples/{p.name}" for p in self.images] + [f"{EMU}/frames/{p.name}"
                                                                              for p in self.frames])
        video = f"{EMU}/examples/{self.video.name}"

        def timed(name: str, script: str) -> subprocess.CompletedProcess:
            t0 = time.perf_counter()
            proc = chroot.run(script)
            out["steps"][name] = round(time.perf_counter() - t0, 1)
            self.log(f"[{out['steps'][name]:7.1f} s] {kind}: {name} (rc {proc.returncode})")
            return proc

        inst = timed("install (" + ("reused" if self.args.reuse_venvs else "fresh") + " venv, --no-index)",
                     f"bash {EMU}/install.sh --wheelhouse {EMU} --venv {venv} --runtime {kind} --python python3 "
                     "--no-check")
        if inst.returncode != 0:
            out["install"] = {"ok": False, "error": (inst.stderr or inst.stdout).strip().splitlines()[-3:]}
            return out
        listing = chroot.run(f"{venv}/bin/python -m pip list --format=freeze --disable-pip-version-check; "
                             f"{venv}/bin/python -c 'import importlib.util as u; "
                             "print(\"tensorflow:\", u.find_spec(\"tensorflow\") is not None)'")
        packages = [ln for ln in listing.stdout.splitlines() if "==" in ln]
        out["install"] = {"ok": "tensorflow: False" in listing.stdout, "packages": packages,
                          "tensorflow": "tensorflow: True" in listing.stdout}
        check = timed("fer-edge-check", f"cd /tmp && {venv}/bin/fer-edge-check {marg} --repeat 10 "
                                        f"--json {EMU}/check-{kind}.json")
        try:
            result = json.loads(chroot.path(f"{EMU}/check-{kind}.json").read_text())
        except (OSError, ValueError):
            result = {"ok": False}
        out["check"] = {"rc": check.returncode, "ok": check.returncode == 0 and result.get("ok", False),
                        "interpreter": result.get("interpreter"),
                        "max_steps": (result.get("outputs") or {}).get("max_steps"),
                        "faces": (result.get("outputs") or {}).get("faces"),
                        "detector_ok": (result.get("detector") or {}).get("ok"),
                        "per_face_ms_emulated": (result.get("latency") or {}).get("per_face_ms"),
                        "per_frame_ms_emulated": (result.get("latency") or {}).get("per_frame_ms"),
                        "stdout": check.stdout.strip().splitlines()}
        probe = timed("raw-output probe", f"{venv}/bin/python {EMU}/emu_probe.py {probe_model} {images} "
                                          f"--video {video} --frames {self.args.frames}")
        try:
            emu_probe = json.loads(probe.stdout)
            out["probe"] = compare_probe(host["probe"], emu_probe)
            out["probe"]["opencv"] = emu_probe["opencv"]
            out["probe"]["numpy"] = emu_probe["numpy"]
            out["probe"]["interpreter"] = emu_probe["interpreter"]
        except (ValueError, KeyError):
            out["probe"] = {"ok": False, "notes": probe.stderr.strip().splitlines()[-2:]}
        image = timed("fer-edge-run --image", f"{venv}/bin/fer-edge-run {marg} --image {images}")
        out["image"] = compare_labels(host["image"], parse_lines(image.stdout), image)
        vid = timed("fer-edge-run --video", f"{venv}/bin/fer-edge-run {marg} --video {video} "
                                             f"--max-frames {self.args.frames}")
        decoded = (out["probe"].get("video_decoded") or {})
        # Boxes and labels must match when both sides decoded identical pixels; otherwise the decoders' rounding
        # moves boxes by a pixel or so: labels are compared without boxes and reported, not required.
        same_pixels = decoded.get("same_pixels") == decoded.get("frames")
        out["video"] = compare_labels(host["video"], parse_lines(vid.stdout), vid, boxes=same_pixels)
        out["video"]["required"] = same_pixels
        out["video"]["ok"] = vid.returncode == 0 and (out["video"]["equal"] or not same_pixels)
        out["bad_inputs"] = {}
        t0 = time.perf_counter()
        sample = f"{EMU}/examples/{self.images[0].name}"
        for name, argv in self.bad_inputs(model_arg or f"{venv}/lib/python3.11/site-packages/fer_edge/models/"
                                          "fer_int8.tflite", sample, f"{EMU}/bad").items():
            argv = [f"{venv}/bin/{argv[0]}", *argv[1:]]
            out["bad_inputs"][name] = one_line_error(chroot.run(" ".join(argv), timeout=600))
        out["steps"]["bad inputs"] = round(time.perf_counter() - t0, 1)
        self.log(f"[{out['steps']['bad inputs']:7.1f} s] {kind}: {len(out['bad_inputs'])} bad inputs")
        out["ok"] = bool(out["install"]["ok"] and out["check"]["ok"] and out["probe"].get("ok")
                         and out["image"]["equal"] and out["video"]["ok"]
                         and all(b["ok"] for b in out["bad_inputs"].values())
                         and out["check"]["interpreter"] == KINDS[kind])
        return out

    def host_bad_inputs(self, model: Path) -> dict:
        bad = CACHE / "emu-host-bad"
        self.write_bad_files(bad, model)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        results = {}
        for name, argv in self.bad_inputs(str(model), str(self.images[0]), str(bad)).items():
            module = "fer_edge" if argv[0] == "fer-edge-run" else "fer_edge.selfcheck"
            proc = subprocess.run([sys.executable, "-m", module, *argv[1:]], capture_output=True, text=True,
                                  env=env, timeout=300)
            results[name] = one_line_error(proc)
        return results

    def run(self) -> dict:
        args = self.args
        t_all = time.perf_counter()
        t0 = time.perf_counter()
        if args.rebuild_rootfs and self.rootfs.exists():
            if mounted_under(self.rootfs):
                raise RuntimeError(f"{self.rootfs} has mounts under it; not deleting it")
            shutil.rmtree(self.rootfs)
        if rootfs_ready(self.rootfs):
            self.report["rootfs"] = {"path": str(self.rootfs), "built": False}
        else:
            build_rootfs(self.rootfs, args.mirror or apt_mirror(), self.log)
            self.report["rootfs"] = {"path": str(self.rootfs), "built": True}
        os_release = (self.rootfs / "etc" / "os-release").read_text()
        self.report["rootfs"]["os"] = re.search(r'PRETTY_NAME="([^"]+)"', os_release).group(1)
        self.step("root file system " + ("built (debootstrap)" if self.report["rootfs"]["built"] else "reused"), t0)

        t0 = time.perf_counter()
        model, model_arg = self.prepare_model()
        self.step(f"model ({self.report['model']['kind']}) and reference", t0)

        t0 = time.perf_counter()
        from deploy import wheelhouse

        bundle = CACHE / "wheelhouse-cp311-aarch64"
        wh = wheelhouse.build(bundle, ["3.11"], wheelhouse.BOOKWORM_GLIBC, tflite_runtime=True,
                              log=lambda m: None)
        self.report["wheelhouse"] = {"path": str(bundle), "resolved": wh["resolved"]}
        self.step("wheelhouse cp311 aarch64 + project wheel", t0)

        t0 = time.perf_counter()
        self.frames = save_frames(self.video, CACHE / "emu-frames", self.args.frames)
        host = self.host_runs(model)
        host_bad = self.host_bad_inputs(model)
        self.report["host"] = {"machine": platform.machine(), "interpreter": host["probe"]["interpreter"],
                               "opencv": host["probe"]["opencv"], "numpy": host["probe"]["numpy"],
                               "faces": sum(len(f["raw"]) for f in host["probe"]["frames"]),
                               "image_lines": len(host["image"]), "video_lines": len(host["video"]),
                               "check_rc": host["check_rc"], "per_face_ms": host["per_face_ms"],
                               "bad_inputs": host_bad}
        self.step("host (x86-64) reference runs", t0)

        chroot = Chroot(self.rootfs)
        self.report["network_in_chroot"] = chroot.network
        self.stage(chroot, model, model_arg, bundle)
        with chroot_mounts(self.rootfs):
            for kind in args.interpreters:
                t0 = time.perf_counter()
                self.report["interpreters"][kind] = self.device_runs(chroot, kind, model_arg, host)
                self.step(f"emulated aarch64, {kind} (all steps)", t0)
        self.report["ok"] = all(r.get("ok") for r in self.report["interpreters"].values())
        self.report["steps"]["total"] = round(time.perf_counter() - t_all, 1)
        return self.report


def _steps(value) -> str:
    return "n/a" if value is None else f"{value:g}"


def _ms(value, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summary(report: dict) -> list[str]:
    lines = [f"emulated aarch64: {report['rootfs']['os']} under qemu-user; network in chroot: "
             f"{report.get('network_in_chroot')}",
             f"model: {report['model']['kind']} {report['model']['path']} (reference {report['model']['reference']})",
             f"host: {report['host']['machine']} {report['host']['interpreter']}, OpenCV {report['host']['opencv']}, "
             f"numpy {report['host']['numpy']}; {report['host']['faces']} faces probed; per face "
             f"{report['host']['per_face_ms']} ms native"]
    for kind, r in report["interpreters"].items():
        if not r.get("install", {}).get("ok"):
            lines.append(f"[{kind}] install FAILED: {r.get('install')}")
            continue
        c, p = r["check"], r["probe"]
        bad = r["bad_inputs"]
        lines.append(
            f"[{kind}] {c['interpreter']}, OpenCV {p.get('opencv')}, numpy {p.get('numpy')}, no TensorFlow: "
            f"{not r['install']['tensorflow']}; fer-edge-check {'PASS' if c['ok'] else 'FAIL'} "
            f"(reference max diff {_steps(c['max_steps'])} step(s) on {c['faces']} face(s), detector "
            f"{'same faces' if c['detector_ok'] else 'DIFFERENT'}); probe on {p.get('stills')} still images "
            f"(samples + video frames saved as PNG on the host): {p.get('faces')} faces, boxes+crops identical on "
            f"{p.get('stills_same_crops')}/{p.get('stills')} images, raw max diff {_steps(p.get('max_steps'))} step(s)"
            f"{' (bit-exact)' if p.get('exact') else ''}{'; ' + '; '.join(p.get('notes', [])) if p.get('notes') else ''}")
        v = p.get("video_decoded") or {}
        lines.append(
            f"[{kind}] video decoded on each side: {v.get('same_pixels')}/{v.get('frames')} frames pixel-identical, "
            f"boxes identical on {v.get('same_boxes')}, min box IoU {v.get('min_iou')}, same face count: "
            f"{v.get('same_face_count')}")
        lines.append(
            f"[{kind}] labels vs host: --image {'equal' if r['image']['equal'] else 'DIFFERENT'} "
            f"({r['image']['lines']} lines), --video {'equal' if r['video']['equal'] else 'DIFFERENT'} "
            f"({r['video']['lines']} lines{'' if r['video'].get('required', True) else '; labels only: decoded pixels differ, boxes moved (see IoU), reported not required'}"
            f"); bad inputs one-line errors: "
            f"{sum(b['ok'] for b in bad.values())}/{len(bad)}"
            + "".join(f"\n    NOT one line: {n}: {b}" for n, b in bad.items() if not b["ok"])
            + "".join(f"\n    {d}" for d in r["image"]["diff"] + r["video"]["diff"]))
        lines.append(f"[{kind}] emulated latency (qemu sanity figure only, NOT Raspberry Pi speed): per face "
                     f"{_ms(c['per_face_ms_emulated'], 1)} ms, per frame {_ms(c['per_frame_ms_emulated'], 0)} ms; "
                     f"steps: " + ", ".join(f"{k} {v} s" for k, v in r["steps"].items()))
    lines.append("steps: " + ", ".join(f"{k} {v} s" for k, v in report["steps"].items()))
    lines.append("emulate_pi: " + ("PASS" if report["ok"] else "FAIL"))
    return lines


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m deploy.emulate_pi", description=__doc__.split("\n\n")[0])
    p.add_argument("--rootfs", default=str(DEFAULT_ROOTFS), help=f"cached root file system (default {DEFAULT_ROOTFS})")
    p.add_argument("--rebuild-rootfs", action="store_true", help="delete the cached root file system and rebuild it")
    p.add_argument("--mirror", help="Debian archive for debootstrap (default: the one apt uses here)")
    p.add_argument("--model", help="model .tflite with its sidecar (default: the shipped model)")
    p.add_argument("--interpreter", dest="interpreters", action="append", choices=sorted(KINDS),
                   help="litert and/or tflite (default both)")
    p.add_argument("--frames", type=int, default=5, help="video frames to run (default 5; emulation is slow)")
    p.add_argument("--reuse-venvs", action="store_true",
                   help="keep the venvs of the last run (faster; the default proves a fresh install)")
    p.add_argument("--json", default=str(CACHE / "emulate_pi-report.json"), help="write the full report here")
    p.add_argument("--check", action="store_true", help="only say whether it can run here and exit (0 or 77)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.frames < 1:
        print("emulate_pi: error: --frames must be >= 1", file=sys.stderr)
        return 2
    if args.model and not Path(args.model).with_suffix(".json").is_file():
        print(f"emulate_pi: error: no model sidecar {Path(args.model).with_suffix('.json')}", file=sys.stderr)
        return 2
    args.interpreters = args.interpreters or ["litert", "tflite"]
    reason = skip_reason(Path(args.rootfs), setup=not args.check)
    if reason:
        print(f"emulate_pi: skipped: {reason}")
        return SKIP
    if args.check:
        state = "cached" if rootfs_ready(Path(args.rootfs)) else "to be built with debootstrap"
        print(f"emulate_pi: can run here (root file system {args.rootfs}: {state})")
        return 0
    try:
        report = Emulation(args).run()
    except (RuntimeError, OSError) as exc:
        print(f"emulate_pi: error: {exc}", file=sys.stderr)
        return 1
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1, default=str) + "\n")
    for line in summary(report):
        print(line)
    print(f"full report: {args.json}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
