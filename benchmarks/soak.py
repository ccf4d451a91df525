"""Endurance: a long synthetic video with several faces through `fer-edge-run` as a subprocess.

    python -m benchmarks.soak --frames 10000 [--model PATH] [--detect-every 5] [--out benchmarks/results/soak.json]

Synthesises the video from examples/group.jpg with OpenCV (a slow drift and brightness wobble, so detection and
tracking do real work), runs `fer-edge-run --video V --output x.jsonl`, samples the child's RSS from
/proc/PID/status while it runs, then checks that every frame has its output line(s) and that the summary was
printed. Memory verdict: flat when the RSS at the end is within max(8 MB, 5%) of the RSS once warmed up
(first sample after 5% of the run).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.common import EXAMPLES, ROOT


def synthesize(path: Path, frames: int, fps: float = 15.0, source: Path | None = None) -> dict:
    import cv2
    img = cv2.imread(str(source or EXAMPLES / "group.jpg"))
    if img is None:
        raise SystemExit(f"cannot read {source or EXAMPLES / 'group.jpg'}")
    h, w = img.shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not vw.isOpened():
        raise SystemExit(f"cannot write {path}")
    for i in range(frames):
        m = np.float32([[1, 0, 4 * np.sin(i / 40)], [0, 1, 3 * np.cos(i / 55)]])
        f = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
        f = cv2.convertScaleAbs(f, alpha=1.0 + 0.08 * np.sin(i / 90), beta=0)
        vw.write(f)
    vw.release()
    return {"resolution": f"{w}x{h}", "fps": fps}


def rss_kb(pid: int) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    except (OSError, ValueError):
        pass
    return out


def command() -> list[str]:
    exe = shutil.which("fer-edge-run")
    venv_exe = Path(sys.executable).parent / "fer-edge-run"
    if venv_exe.is_file():
        return [str(venv_exe)]
    return [exe] if exe else [sys.executable, "-m", "fer_edge"]


def soak(frames=10000, model=None, detect_every=5, keep=False, interval=0.25, extra=()):
    tmp = Path(tempfile.mkdtemp(prefix="fer-soak-"))
    try:
        video, out = tmp / "soak.mp4", tmp / "soak.jsonl"
        t0 = time.perf_counter()
        meta = synthesize(video, frames)
        synth_s = time.perf_counter() - t0
        cmd = command() + ["--video", str(video), "--output", str(out), "--detect-every", str(detect_every)]
        if model is None:  # the shipped model, or the run's int8 model while none is shipped ($FER_BENCH_*)
            from benchmarks.common import DEFAULT_INT8, model_paths
            found = model_paths()["int8_tflite"]
            model = found if found and Path(found).resolve() != DEFAULT_INT8.resolve() else None
        if model:
            cmd += ["--model", str(model)]
        cmd += list(extra)
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        samples = []  # (seconds, rss_kb, lines_so_far)
        hwm = 0
        while proc.poll() is None:
            r = rss_kb(proc.pid)
            if r.get("VmRSS"):
                size = out.stat().st_size if out.exists() else 0
                samples.append((time.perf_counter() - t0, r["VmRSS"], size))
                hwm = max(hwm, r.get("VmHWM", 0))
            time.sleep(interval)
        stdout, stderr = proc.communicate()
        wall = time.perf_counter() - t0
        per_frame, lines, bad = Counter(), 0, 0
        if out.exists():
            with open(out) as f:
                for line in f:
                    lines += 1
                    try:
                        per_frame[json.loads(line)["frame"]] += 1
                    except (ValueError, KeyError):
                        bad += 1
        m = re.search(r"^(?:interrupted: )?(\d+) frames, (\d+) faces", stderr, re.M)
        summary_frames = int(m.group(1)) if m else None
        if samples:
            total_bytes = samples[-1][2] or 1
            warm = next((s for s in samples if s[2] >= 0.05 * total_bytes), samples[0])
            start_kb, end_kb, peak_kb = warm[1], samples[-1][1], max(s[1] for s in samples)
        else:
            start_kb = end_kb = peak_kb = 0
        missing = [i for i in range(frames) if per_frame.get(i, 0) == 0]
        flat = abs(end_kb - start_kb) <= max(8 * 1024, 0.05 * start_kb)
        ok = proc.returncode == 0 and not missing and summary_frames == frames and bad == 0 and flat
        faces_hist = Counter(per_frame.values())
        res = {
            "frames": frames, **meta, "faces_per_frame": ", ".join(f"{k} faces: {v} frames"
                                                                  for k, v in sorted(faces_hist.items())),
            "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)).replace(str(tmp), "$TMP"),
            "detect_every": detect_every, "returncode": proc.returncode, "lines": lines, "bad_lines": bad,
            "frames_with_lines": frames - len(missing), "missing_frames_first": missing[:20],
            "summary": bool(m), "summary_frames": summary_frames,
            "summary_text": stderr.strip().splitlines()[-3:] if m else stderr.strip().splitlines()[-5:],
            "rss_start_mb": start_kb / 1024, "rss_end_mb": end_kb / 1024, "rss_peak_mb": peak_kb / 1024,
            "vmhwm_mb": hwm / 1024, "rss_samples": len(samples),
            "rss_series_mb": [round(s[1] / 1024, 1) for s in samples[:: max(1, len(samples) // 40)]],
            "wall_s": wall, "synth_s": synth_s, "memory_flat": flat,
            "verdict": "PASS" if ok else "FAIL: " + "; ".join(
                x for x in [f"exit {proc.returncode}" if proc.returncode else "",
                            f"{len(missing)} frames without a line" if missing else "",
                            "no summary" if not m else ("" if summary_frames == frames else
                                                        f"summary says {summary_frames} frames"),
                            f"{bad} unparsable lines" if bad else "",
                            "" if flat else f"RSS grew {start_kb / 1024:.1f} -> {end_kb / 1024:.1f} MB"] if x),
        }
        if keep:
            res["kept"] = str(tmp)
        return res
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--model", default=None, help="model for fer-edge-run (default: the shipped model, else $FER_BENCH_INT8 / $FER_BENCH_RUN/quant)")
    ap.add_argument("--detect-every", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the synthetic video and output")
    ap.add_argument("--out", default="benchmarks/results/soak.json")
    a = ap.parse_args(argv)
    res = soak(a.frames, a.model, a.detect_every, a.keep)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(f"soak {res['frames']} frames ({res['resolution']}, {res['faces_per_frame']}): {res['verdict']}")
    print(f"  RSS start {res['rss_start_mb']:.1f} MB, end {res['rss_end_mb']:.1f} MB, peak {res['rss_peak_mb']:.1f} MB;"
          f" {res['lines']} lines; summary: {res['summary_text']}; {res['wall_s']:.0f} s")
    print(f"wrote {a.out}")
    return 0 if res["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
