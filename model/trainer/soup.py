"""Averages the weights of several fine-tuning runs from the same ImageNet start (a "model soup") and exports
the average like train.py does. Runs that differ only in their seed land in one basin, so their average is a
network of its own, steadier than any one run, at the cost of one network at inference."""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from network import EardrumNet, export, log, predict  # noqa: E402
from metrics import evaluate_logits  # noqa: E402
from views import Views  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--views", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("runs", nargs="+", help="run folders of train.py (each with network.pt, training.json)")
    args = p.parse_args()
    checkpoints = [torch.load(os.path.join(r, "network.pt")) for r in args.runs]
    labels = checkpoints[0]["labels"]
    if any(c["labels"] != labels for c in checkpoints):
        raise SystemExit("soup.py: the runs were trained on different labels")
    first = checkpoints[0]["state_dict"]
    average = {}
    for key, value in first.items():
        if value.dtype.is_floating_point:
            average[key] = sum(c["state_dict"][key] for c in checkpoints) / len(checkpoints)
        else:
            average[key] = value
    net = EardrumNet(torchvision.models.mobilenet_v2(weights=None).features, len(labels), 0.0)
    net.load_state_dict(average)
    net.eval()
    os.makedirs(args.out, exist_ok=True)
    val = Views(args.views, "val")
    val_rows = [val.by_sample[s][0] for s in val.samples]
    runs = []
    for r in args.runs:
        with open(os.path.join(r, "training.json"), encoding="utf-8") as f:
            runs.append(json.load(f))
    logits, gate, _ = predict(net, val, val_rows)
    report = evaluate_logits(logits, gate, [val.entries[r] for r in val_rows], labels)
    run_accuracies = ", ".join("%.3f" % t["final_val"]["accuracy"] for t in runs)
    log(
        f"soup of {len(args.runs)} runs: val acc {report['accuracy']:.3f} f1 {report['macro_f1']:.3f} "
        f"auc {report['auc']:.3f} (runs: {run_accuracies})"
    )
    torch.save({"state_dict": net.state_dict(), "labels": labels}, os.path.join(args.out, "network.pt"))
    export(net, val, val_rows, args.out)
    summary = dict(runs[0])
    summary["soup"] = {"runs": [t["args"]["seed"] for t in runs], "run_val": [t["final_val"] for t in runs], "val": report}
    summary["final_val"] = report
    summary["seconds"] = sum(t["seconds"] for t in runs)
    with open(os.path.join(args.out, "training.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
