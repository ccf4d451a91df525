"""train.study: the six-model table and the hyper-parameter table, rendered from real run folders.

The run folders are copies of the tiny `final` run trained by tests/test_train.py; the table must show every
number with its n and 95% interval, and say "not run" for the models that have no run folder.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from test_train import tiny_data, tiny_run  # noqa: F401  (session fixtures shared with the training tests)

from train import study


def _fmt(acc: dict) -> str:
    lo, hi = acc["ci95"]
    return f"{100 * acc['value']:.1f} ({100 * lo:.1f}-{100 * hi:.1f}, n={acc['n']})"


def _copy_run(src: Path, dst: Path, **config_changes) -> dict:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("quant", "*.keras", "*.png"))
    if config_changes:
        cfg = json.loads((dst / "config.json").read_text())
        (dst / "config.json").write_text(json.dumps({**cfg, **config_changes}))
    return json.loads((dst / "metrics.json").read_text())


@pytest.fixture
def runs(tiny_run, tmp_path):  # noqa: F811
    runs = tmp_path / "runs"
    _copy_run(tiny_run, runs / "final")
    _copy_run(tiny_run, runs / "vgg16", model="vgg16", weights="imagenet")
    _copy_run(tiny_run, runs / "hparams" / "relu_edge", activation="relu")
    (runs / "hparams" / "unfinished").mkdir()  # started but never wrote metrics.json
    (runs / "model1").mkdir()  # likewise
    return runs


def _row(text: str, name: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith(f"| {name} |")]
    assert len(rows) == 1, (name, rows)
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_table_rows_carry_n_and_interval(runs):
    metrics = json.loads((runs / "final" / "metrics.json").read_text())
    data = json.loads((runs / "final" / "data.json").read_text())
    text = study.table(runs)

    final = _row(text, "final")
    assert final[1] == f"{metrics['params']:,}" and final[2] == "-"
    assert f"{metrics['epochs_run']} ep" in final[3] and f"{data['sizes']['train']:,} faces" in final[3]
    for split in ("train", "val", "test"):
        assert _fmt(metrics[split]["accuracy"]) in final, split
    assert _fmt(metrics["test_flip_tta"]) in final
    assert final[-1] == str(study.STUDY_CLAIMS["final"])

    assert _row(text, "vgg16")[2] == "imagenet"  # transfer rows say which weights they started from
    for name in ("model1", "model2", "inception_resnet_v2", "efficientnet"):
        row = _row(text, name)
        assert "not run" in row and row[-1] == str(study.STUDY_CLAIMS[name])

    variant = _row(text, "relu_edge")
    assert variant[1:3] == [_fmt(metrics["val"]["accuracy"]), _fmt(metrics["test"]["accuracy"])]
    assert variant[3] == str(metrics["best_epoch"])
    assert "| unfinished |" not in text


def test_table_with_no_runs_says_not_run_for_all_six(tmp_path):
    text = study.table(tmp_path)
    for name in study.STUDY_CLAIMS:
        assert "not run" in _row(text, name)


def test_table_only_writes_the_document(runs, tmp_path):
    out = tmp_path / "results" / "study_table.md"
    assert study.main(["--only", "table", "--runs", str(runs), "--table", str(out)]) == 0
    assert out.read_text() == study.table(runs)
