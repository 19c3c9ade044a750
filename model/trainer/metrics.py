"""Validation figures printed while training (the shipped figures come from the TypeScript evaluation)."""

from __future__ import annotations

import numpy as np
import torch


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve by the rank statistic (ties count half)."""
    pos = scores[positive]
    neg = scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def evaluate_logits(logits: torch.Tensor, gate: torch.Tensor, entries: list[dict], labels: list[str]) -> dict:
    known = [i for i, e in enumerate(entries) if e["label"] in labels]
    y = np.array([labels.index(entries[i]["label"]) for i in known])
    prob = torch.softmax(logits[known], dim=1).numpy()
    pred = prob.argmax(1)
    f1s = []
    for k in range(len(labels)):
        tp = ((pred == k) & (y == k)).sum()
        fp = ((pred == k) & (y != k)).sum()
        fn = ((pred != k) & (y == k)).sum()
        if tp + fn == 0:
            continue
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    normal = labels.index("normal") if "normal" in labels else 0
    per_source: dict[str, float] = {}
    for source in sorted({entries[i]["source"] for i in known}):
        idx = [j for j, i in enumerate(known) if entries[i]["source"] == source]
        per_source[source.split("_")[-1]] = float((pred[idx] == y[idx]).mean())
    g = torch.sigmoid(gate).numpy()
    eardrum = np.array([not e["label"].startswith("neg:") for e in entries])
    return {
        "accuracy": float((pred == y).mean()) if len(y) else float("nan"),
        "macro_f1": float(np.mean(f1s)) if f1s else float("nan"),
        "auc": auc(1 - prob[:, normal], y != normal),
        "per_source": per_source,
        "eardrums_rejected_at_0.5": float((g[eardrum] < 0.5).mean()) if eardrum.any() else float("nan"),
        "negatives_rejected_at_0.5": float((g[~eardrum] < 0.5).mean()) if (~eardrum).any() else float("nan"),
    }
