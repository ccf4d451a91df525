"""fer-edge-run as a real subprocess: every source mode, every output, every bad input from the issue."""
import csv
import io
import json
import shutil

import cv2
import pytest

STDERR_LINE = "fer-edge-run: error: "


def _jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


def _one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith(STDERR_LINE)]
    assert len(errors) == 1 and proc.stderr.strip() == errors[0], proc.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_image_file_prints_json_lines_and_summary(run_cli, int8_model, examples_dir):
    proc = run_cli("--model", int8_model, "--image", examples_dir / "astronaut.jpg")
    assert proc.returncode == 0, proc.stderr
    (line,) = _jsonl(proc.stdout)
    assert set(line) == {"frame", "t", "image", "track", "box", "label", "probs", "ms"}
    assert line["label"] in line["probs"] and list(line["probs"]) == ["happy", "sad", "neutral", "surprise"]
    assert len(line["box"]) == 4 and set(line["ms"]) == {"detect", "classify", "frame"}
    assert "1 frames, 1 faces" in proc.stderr and "p50 / p95" in proc.stderr


def test_image_folder_and_csv(run_cli, int8_model, examples_dir, tmp_path):
    for name in ("astronaut.jpg", "group.jpg"):
        shutil.copy(examples_dir / name, tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image, ignored")
    out = tmp_path / "faces.csv"
    proc = run_cli("--model", int8_model, "--image", tmp_path, "--format", "csv", "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["image"].rsplit("/", 1)[-1] for r in rows} == {"astronaut.jpg", "group.jpg"}
    assert len(rows) >= 3
    assert abs(sum(float(rows[0][f"p_{k}"]) for k in ("happy", "sad", "neutral", "surprise")) - 1) < 1e-3


def test_video_with_tracking_and_saved_video(run_cli, int8_model, examples_dir, tmp_path):
    saved = tmp_path / "annotated.mp4"
    proc = run_cli("--model", int8_model, "--video", examples_dir / "astronaut.mp4", "--detect-every", "3",
                   "--smooth", "window:4", "--max-frames", "30", "--save-video", saved)
    assert proc.returncode == 0, proc.stderr
    lines = _jsonl(proc.stdout)
    assert [line["frame"] for line in lines] == list(range(30))
    assert {line["track"] for line in lines} == {1}
    assert [line["ms"]["detect"] is not None for line in lines[:6]] == [True, False, False] * 2
    assert lines[15]["t"] == pytest.approx(1.0)
    capture = cv2.VideoCapture(str(saved))
    assert capture.isOpened() and int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 30
    ok, frame = capture.read()
    assert ok and frame.shape[:2] == (320, 320)


def test_runs_without_tensorflow(int8_model, examples_dir):
    import subprocess
    import sys

    code = (
        "import sys; from fer_edge.cli import main; "
        f"rc = main(['--model', {str(int8_model)!r}, '--image', {str(examples_dir / 'group.jpg')!r}]); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')); "
        "print('HEAVY', heavy, file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr
    assert len(_jsonl(proc.stdout)) >= 2


def test_camera_that_does_not_open(run_cli, int8_model):
    _one_line_error(run_cli("--model", int8_model, "--camera", "99"), "camera 99")


def test_truncated_video_finishes_with_summary(run_cli, int8_model, examples_dir, tmp_path):
    clip = tmp_path / "clip.avi"  # MJPG AVI stays decodable up to the cut, like a recording cut short
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (320, 320))
    capture = cv2.VideoCapture(str(examples_dir / "astronaut.mp4"))
    for _ in range(40):
        writer.write(capture.read()[1])
    writer.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    proc = run_cli("--model", int8_model, "--video", cut)
    assert proc.returncode == 0, proc.stderr
    frames = {line["frame"] for line in _jsonl(proc.stdout)}
    assert 5 < len(frames) < 40
    assert "Traceback" not in proc.stderr and f"{max(frames) + 1} frames" in proc.stderr


@pytest.mark.parametrize("case", ["missing image", "corrupt image", "empty folder", "missing video",
                                  "unopenable video", "mp4 cut mid-stream"])
def test_bad_input_is_one_line_and_exit_2(run_cli, int8_model, examples_dir, tmp_path, case):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 definitely not a jpeg")
    (tmp_path / "empty").mkdir()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 4096)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes((examples_dir / "astronaut.mp4").read_bytes()[:50_000])  # mp4v keeps its index at the end
    args, fragment = {
        "missing image": (["--image", tmp_path / "nope.jpg"], "image not found"),
        "corrupt image": (["--image", corrupt], "cannot read image"),
        "empty folder": (["--image", tmp_path / "empty"], "no images in folder"),
        "missing video": (["--video", tmp_path / "nope.mp4"], "video not found"),
        "unopenable video": (["--video", junk], "cannot open video"),
        "mp4 cut mid-stream": (["--video", cut], "video"),
    }[case]
    _one_line_error(run_cli("--model", int8_model, *args), fragment)


@pytest.mark.parametrize("case", ["missing", "truncated", "wrong signature", "no labels"])
def test_bad_model_is_one_line_and_exit_2(run_cli, tiny_models, examples_dir, tmp_path, case):
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(tiny_models.int8.read_bytes()[:2000])
    shutil.copy(tiny_models.int8.with_suffix(".json"), truncated.with_suffix(".json"))
    unlabelled = tmp_path / "unlabelled.tflite"
    shutil.copy(tiny_models.int8, unlabelled)
    model, fragment = {
        "missing": (tmp_path / "nope.tflite", "model not found"),
        "truncated": (truncated, "cannot load model"),
        "wrong signature": (tiny_models.wrong_signature, "1 input and 1 output"),
        "no labels": (unlabelled, "sidecar"),
    }[case]
    _one_line_error(run_cli("--model", model, "--image", examples_dir / "astronaut.jpg"), fragment)


def test_missing_edgetpu_falls_back_to_cpu_with_a_warning(run_cli, int8_model, examples_dir):
    proc = run_cli("--model", int8_model, "--edgetpu", "--image", examples_dir / "astronaut.jpg")
    if "warning: Edge TPU" not in proc.stderr:
        pytest.skip("an Edge TPU runtime is installed here")
    assert proc.returncode == 0 and "running on the CPU" in proc.stderr
    assert len(_jsonl(proc.stdout)) == 1


def test_display_without_a_display_warns_and_runs(run_cli, int8_model, examples_dir):
    proc = run_cli("--model", int8_model, "--display", "--image", examples_dir / "astronaut.jpg")
    assert proc.returncode == 0, proc.stderr
    assert "warning: --display ignored" in proc.stderr
    assert len(_jsonl(proc.stdout)) == 1


def test_unwritable_output_is_one_line(run_cli, int8_model, examples_dir, tmp_path):
    proc = run_cli("--model", int8_model, "--image", examples_dir / "astronaut.jpg",
                   "--output", tmp_path / "no" / "such" / "dir.jsonl")
    _one_line_error(proc, "cannot write")


def test_ctrl_c_prints_the_summary(int8_model, examples_dir):
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "fer_edge", "--model", str(int8_model), "--video", str(examples_dir / "astronaut.mp4")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    first = proc.stdout.readline()  # flushed per frame, so it arrives while the run goes on
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert json.loads(first)["frame"] == 0
    assert proc.returncode in (0, 130), err  # 0 if the 60 frames were done before the signal landed
    assert "Traceback" not in err and "frames," in err and "latency ms" in err
    if proc.returncode == 130:
        assert err.startswith("interrupted: ")
