"""report.json and report.md for a quantised run: sizes, sparsity, accuracy table, ops, Edge TPU verdict."""
from __future__ import annotations

import gzip
import json
from pathlib import Path


def sizes(path: Path) -> dict:
    """Raw and gzip bytes: gzip is how pruning's zeros show up, since TFLite stores dense tensors."""
    data = path.read_bytes()
    return {"bytes": len(data), "gzip_bytes": len(gzip.compress(data, compresslevel=9))}


def _acc(report: dict) -> str:
    a = report["accuracy"]
    lo, hi = a["ci95"]
    return f"{100 * a['value']:.2f}% (n={a['n']}, 95% CI {100 * lo:.1f}-{100 * hi:.1f})"


def write(out: Path, report: dict) -> None:
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Quantisation report: {report['run']}", "", f"Command: `{report['command']}`", ""]
    val = report["validation"]
    lines += ["## Validation (where pruning and quantisation settings are chosen)", "",
              f"- float Keras {_acc({'accuracy': val['keras_float']})}; model to quantise (pruned/QAT) "
              f"{_acc({'accuracy': val['keras_deployable']})}", ""]
    lines += ["## Accuracy on the run's test split (through fer_edge for .tflite)", "",
              "| model | accuracy | " + " | ".join(f"recall {l}" for l in report["labels"]) + " |",
              "|---|---|" + "---|" * len(report["labels"])]
    for name, rep in report["check"]["reports"].items():
        recalls = " | ".join(f"{100 * c['recall']:.1f}%" for c in rep["per_class"])
        lines.append(f"| {name} | {_acc(rep)} | {recalls} |")
    agree = report["check"]["agreement_int8_vs_float"]
    diff = report["check"]["prob_abs_diff_int8_vs_float"]
    lines += ["", f"- int8 vs float Keras top-1 agreement: {100 * agree['value']:.2f}% (n={agree['n']}, "
              f"95% CI {100 * agree['ci95'][0]:.1f}-{100 * agree['ci95'][1]:.1f})",
              f"- probability |int8 - float|: mean {diff['mean']:.4f}, max {diff['max']:.4f}",
              f"- accuracy drop float -> int8: {report['check']['drop_points']:.2f} points "
              f"(gate: at most {report['gate']['max_drop_points']} points) -> **{report['gate']['verdict']}**", ""]
    lines += ["## Sizes", "", "| file | bytes | gzip bytes |", "|---|---|---|"]
    lines += [f"| {name} | {s['bytes']:,} | {s['gzip_bytes']:,} |" for name, s in report["sizes"].items()]
    if report.get("sparsity"):
        lines += ["", f"## Sparsity (target {report['prune']['target']:.0%}, overall "
                      f"{report['prune']['overall']:.1%})", "", "| layer | kernel zeros |", "|---|---|"]
        lines += [f"| {k} | {v:.1%} |" for k, v in report["sparsity"].items()]
    ops = report["ops"]
    lines += ["", "## int8 model ops", "", f"Input {ops['io_dtypes']['input']}, output {ops['io_dtypes']['output']}; "
              f"ops touching float32: {', '.join(ops['float_ops']) or 'none'}.", "",
              "| op | count | Edge TPU |", "|---|---|---|"]
    lines += [f"| {op} | {n} | {'no' if op in ops['edgetpu_unsupported'] else 'yes'} |" for op, n in ops["ops"].items()]
    lines += ["", f"Edge TPU verdict: **{'all ops supported' if ops['edgetpu_ok'] else 'NOT fully supported: ' + ', '.join(ops['edgetpu_unsupported'])}**",
              "", "```", report["edgetpu_compiler"], "```", "",
              "## Contract", "", f"Labels (output order): {', '.join(report['labels'])}. "
              f"Input [1, 48, 48, 1] gray, value = pixel/255 quantised with scale {report['input_quant']['scale']:.6f} "
              f"and zero point {report['input_quant']['zero_point']} (int8 with zero point -128 is `pixel - 128`).", ""]
    (out / "report.md").write_text("\n".join(lines))
