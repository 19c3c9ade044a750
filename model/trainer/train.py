"""Fine-tunes ImageNet MobileNetV2-1.0 on the eardrum views and exports it as ONNX.

A build tool beside model/: `npm run train` renders the views with the app's own preprocessing
(model/train/render-views.ts), runs this script with Debian's /usr/bin/python3 (torch 1.13), then imports the
ONNX file into TF.js and does calibration, gate threshold, "not sure" thresholds and the card in TypeScript.

What keeps the class head from reading the camera (each measured, see model/README.md):
- every training view passes through a random simulated otoscope (colour, exposure, blur, JPEG, framing),
  then a random rotation and flip here;
- source-balanced sampling inside the labels that both cameras have (normal, ventilation tube);
- a source adversary behind a gradient-reversal layer, fed only with pictures of those shared labels, so
  the pooled features stop telling the cameras apart without being asked to forget a label.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backbone import imagenet_mobilenet_v2, rebuild_batch_norm  # noqa: E402
from metrics import evaluate_logits  # noqa: E402
from network import EardrumNet, GradReverse, ema_update, export, log, predict  # noqa: E402
from views import Views, add_mixstyle, circle_mask, colour_jitter, rotate_flip  # noqa: E402

DEFAULT_LABELS = ["normal", "aom", "com", "earwax", "effusion", "otitis_externa", "tympanosclerosis", "ventilation_tube"]


def sampling_weights(entries: list[dict], labels: list[str], negative_share: float, source_balance: bool):
    """One weight per sample: labels weighted by 1/sqrt(count) (rare findings seen more often, not as often as
    common ones); inside a label that several sources have, each source gets an equal share; negatives take
    `negative_share` of all draws."""
    counts: dict[str, int] = {}
    cell: dict[tuple[str, str], int] = {}
    for e in entries:
        counts[e["label"]] = counts.get(e["label"], 0) + 1
        cell[(e["label"], e["source"])] = cell.get((e["label"], e["source"]), 0) + 1
    sources_of: dict[str, set] = {}
    for (label, source) in cell:
        sources_of.setdefault(label, set()).add(source)
    w = np.zeros(len(entries))
    for i, e in enumerate(entries):
        if e["label"] in labels:
            label_weight = 1 / math.sqrt(counts[e["label"]])
            if source_balance:
                share = 1 / len(sources_of[e["label"]])
                w[i] = label_weight * counts[e["label"]] * share / cell[(e["label"], e["source"])]
            else:
                w[i] = label_weight
    positives = w.sum()
    negatives = [i for i, e in enumerate(entries) if e["label"].startswith("neg:")]
    if negatives and negative_share > 0:
        w[negatives] = positives * negative_share / (1 - negative_share) / len(negatives)
    return w / w.sum()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--views", required=True, help="folder with train/val .bin/.json from render-views")
    p.add_argument("--onnx-backbone", required=True, help="ONNX Model Zoo mobilenetv2-12-int8.onnx")
    p.add_argument("--out", required=True)
    p.add_argument("--labels", default=",".join(DEFAULT_LABELS))
    p.add_argument("--sources", default="", help="train only on these eardrum sources (comma list); default all")
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--head-lr-mult", type=float, default=5.0)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--clean-share", type=float, default=0.2, help="share of draws that use the clean view")
    p.add_argument("--negative-share", type=float, default=0.2)
    p.add_argument("--no-source-balance", action="store_true")
    p.add_argument(
        "--class-weight",
        choices=["none", "sqrt"],
        default="none",
        help="loss weights per label on top of the sampler's square-root balancing (sqrt: fully balanced)",
    )
    p.add_argument("--adversary", type=float, default=0.3, help="gradient-reversal weight (0 = off)")
    p.add_argument("--adversary-labels", default="normal,ventilation_tube")
    p.add_argument("--gate-weight", type=float, default=0.5)
    p.add_argument("--mixstyle", type=float, default=0.0, help="MixStyle probability after early blocks (0 = off)")
    p.add_argument("--mixstyle-blocks", default="1,3,6", help="features[] indices MixStyle follows")
    p.add_argument("--probe-epochs", type=int, default=0, help="linear probe epochs before fine-tuning (LP-FT)")
    p.add_argument("--probe-lr", type=float, default=3e-3)
    p.add_argument("--colour-jitter", type=float, default=0.0, help="spread of colour changes after white balance (0 = off)")
    p.add_argument("--freeze", type=int, default=0, help="freeze the first N blocks of features")
    p.add_argument("--init", default="", help="start from this run's network.pt (train.py/soup.py) instead of ImageNet")
    p.add_argument(
        "--consistency",
        type=float,
        default=0.0,
        help="weight of the agreement loss between two simulated otoscopes of the same photo (0 = off)",
    )
    p.add_argument("--ema", type=float, default=0.99)
    p.add_argument("--max-samples", type=int, default=0, help="smoke runs: use at most this many samples")
    p.add_argument("--steps-per-epoch", type=int, default=0, help="default: samples / batch")
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.time()
    os.makedirs(args.out, exist_ok=True)

    labels = args.labels.split(",")
    label_index = {l: i for i, l in enumerate(labels)}
    train = Views(args.views, "train")
    val = Views(args.views, "val")
    sources = set(filter(None, args.sources.split(",")))
    samples = [
        s
        for s in train.samples
        if (e := train.sample_entry(s))["label"].startswith("neg:")
        or (e["label"] in label_index and (not sources or e["source"] in sources))
    ]
    if args.max_samples:
        pick = rng.permutation(len(samples))[: args.max_samples]
        samples = [samples[i] for i in sorted(pick)]
    entries = [train.sample_entry(s) for s in samples]
    eardrum_sources = sorted({e["source"] for e in entries if not e["label"].startswith("neg:")})
    source_index = {s: i for i, s in enumerate(eardrum_sources)}
    adversary_on = args.adversary > 0 and len(eardrum_sources) == 2
    adversary_labels = set(args.adversary_labels.split(","))
    weights = sampling_weights(entries, labels, args.negative_share, not args.no_source_balance)
    log(
        f"{len(samples)} training samples ({sum(not e['label'].startswith('neg:') for e in entries)} eardrums, "
        f"sources {eardrum_sources}); labels {labels}; adversary {'on' if adversary_on else 'off'}"
    )

    backbone, biases = imagenet_mobilenet_v2(args.onnx_backbone)
    clean_rows = [train.by_sample[s][0] for s in samples]
    calib = [train.normalise(train.batch_uint8(clean_rows[i : i + 32])) for i in range(0, min(256, len(clean_rows)), 32)]
    rebuild_batch_norm(backbone, biases, calib)
    net = EardrumNet(backbone.features, len(labels), args.dropout)
    if args.init:
        start = torch.load(os.path.join(args.init, "network.pt"))
        if start["labels"] != labels:
            raise SystemExit(f"train.py: {args.init} was trained on other labels ({start['labels']})")
        net.load_state_dict(start["state_dict"])
        log(f"starting from {args.init}")
    adversary = nn.Sequential(nn.Linear(1280, 256), nn.ReLU(), nn.Linear(256, 1))
    frozen = list(net.features[: args.freeze]) if args.freeze else []
    for m in frozen:
        for q in m.parameters():
            q.requires_grad_(False)

    backbone_params = [q for q in net.features.parameters() if q.requires_grad]
    head_params = list(net.class_logits.parameters()) + list(net.gate_logit.parameters()) + list(adversary.parameters())
    opt = torch.optim.AdamW(
        [
            {"params": backbone_params, "lr": args.lr},
            {"params": head_params, "lr": args.lr * args.head_lr_mult},
        ],
        weight_decay=args.weight_decay,
    )
    steps_per_epoch = args.steps_per_epoch or max(1, len(samples) // args.batch)
    total_steps = steps_per_epoch * args.epochs
    warmup = min(steps_per_epoch, total_steps // 10 + 1)
    base_lrs = [g["lr"] for g in opt.param_groups]
    label_counts = np.bincount([label_index[e["label"]] for e in entries if e["label"] in label_index], minlength=len(labels))
    class_weight = (
        torch.tensor(np.sqrt(label_counts.sum() / np.maximum(label_counts, 1)) / np.sqrt(len(labels)), dtype=torch.float32)
        if args.class_weight == "sqrt"
        else None
    )
    mask = circle_mask(train.size)
    ema = copy.deepcopy(net)
    mixstyle_hooks = []
    if args.mixstyle > 0:
        blocks = [net.features[int(i)] for i in args.mixstyle_blocks.split(",")]
        mixstyle_hooks = add_mixstyle(blocks, args.mixstyle, 0.1, gen)
    val_rows = [val.by_sample[s][0] for s in val.samples]
    history = []

    def draw_batch():
        # With consistency on, half the batch is photos and the other half the same photos through another
        # simulated otoscope (rows i and i + batch/2 are one photo), so the cost per step stays the same.
        pairs = args.consistency > 0
        draw = rng.choice(len(samples), size=args.batch // 2 if pairs else args.batch, p=weights)
        rows, twins = [], []
        for k in draw:
            views_of = train.by_sample[samples[k]]
            use_clean = len(views_of) == 1 or rng.random() < args.clean_share
            row = views_of[0] if use_clean else views_of[1 + rng.integers(len(views_of) - 1)]
            rows.append(row)
            if pairs:
                others = [r for r in views_of if r != row] or [row]
                twins.append(others[rng.integers(len(others))])
        if pairs:
            rows += twins
            draw = np.concatenate([draw, draw])
        batch_entries = [entries[k] for k in draw]
        x255 = rotate_flip(train.batch_uint8(rows), gen, mask)
        if args.colour_jitter > 0:
            x255 = colour_jitter(x255, gen, args.colour_jitter, mask)
        is_eardrum = torch.tensor([not e["label"].startswith("neg:") for e in batch_entries])
        y = torch.tensor([label_index.get(e["label"], -100) for e in batch_entries])
        return train.normalise(x255), batch_entries, is_eardrum, y

    if args.probe_epochs:
        # Linear probe first (LP-FT): the heads learn on the ImageNet features before any backbone weight
        # moves, so fine-tuning starts from a sensible head and distorts the pretrained features less.
        net.features.eval()
        probe_params = list(net.class_logits.parameters()) + list(net.gate_logit.parameters())
        probe_opt = torch.optim.AdamW(probe_params, lr=args.probe_lr, weight_decay=1e-4)
        for epoch in range(args.probe_epochs):
            total = 0.0
            for _ in range(steps_per_epoch):
                x, _, is_eardrum, y = draw_batch()
                with torch.no_grad():
                    pooled = net.features(x).mean(dim=(2, 3))
                logits = net.class_logits(net.dropout(pooled))
                gate = net.gate_logit(pooled)
                loss = F.cross_entropy(logits, y, weight=class_weight, ignore_index=-100, label_smoothing=args.label_smoothing)
                loss = loss + args.gate_weight * F.binary_cross_entropy_with_logits(gate[:, 0], is_eardrum.float())
                probe_opt.zero_grad(set_to_none=True)
                loss.backward()
                probe_opt.step()
                total += loss.item()
            logits, gate, _ = predict(net, val, val_rows)
            report = evaluate_logits(logits, gate, [val.entries[r] for r in val_rows], labels)
            log(f"probe epoch {epoch + 1}/{args.probe_epochs}: loss {total / steps_per_epoch:.3f} | val acc {report['accuracy']:.3f} f1 {report['macro_f1']:.3f} auc {report['auc']:.3f}")
        ema = copy.deepcopy(net)

    step = 0
    for epoch in range(args.epochs):
        net.train()
        for m in frozen:
            m.eval()
        t_epoch = time.time()
        totals = {"class": 0.0, "gate": 0.0, "adv": 0.0, "adv_acc": 0.0, "js": 0.0, "n": 0}
        for _ in range(steps_per_epoch):
            x, batch_entries, is_eardrum, y = draw_batch()

            progress = step / total_steps
            scale = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * progress))
            for g, lr in zip(opt.param_groups, base_lrs):
                g["lr"] = lr * scale

            _, pooled, logits, gate = net(x)
            loss_class = F.cross_entropy(logits, y, weight=class_weight, ignore_index=-100, label_smoothing=args.label_smoothing)
            loss_gate = F.binary_cross_entropy_with_logits(gate[:, 0], is_eardrum.float())
            loss = loss_class + args.gate_weight * loss_gate
            if args.consistency > 0:
                half = logits.shape[0] // 2
                ear = is_eardrum[:half]
                if ear.any():
                    p_a = F.softmax(logits[:half][ear], dim=1)
                    p_b = F.softmax(logits[half:][ear], dim=1)
                    m = ((p_a + p_b) / 2).clamp_min(1e-7).log()
                    js = (F.kl_div(m, p_a, reduction="batchmean") + F.kl_div(m, p_b, reduction="batchmean")) / 2
                    loss = loss + args.consistency * js
                    totals["js"] += js.item()
            adv_rows = [i for i, e in enumerate(batch_entries) if e["label"] in adversary_labels]
            if adversary_on and len(adv_rows) >= 2:
                ramp = 2 / (1 + math.exp(-10 * progress)) - 1
                src = torch.tensor([float(source_index[batch_entries[i]["source"]]) for i in adv_rows])
                adv_logit = adversary(GradReverse.apply(pooled[adv_rows], args.adversary * ramp))[:, 0]
                # Shared labels are unbalanced between the cameras: weight so both count equally.
                pos = src.mean().clamp(0.05, 0.95)
                w = torch.where(src > 0.5, 0.5 / pos, 0.5 / (1 - pos))
                loss_adv = F.binary_cross_entropy_with_logits(adv_logit, src, weight=w)
                loss = loss + loss_adv
                totals["adv"] += loss_adv.item()
                totals["adv_acc"] += ((adv_logit > 0).float() == src).float().mean().item()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema_update(ema, net, args.ema if step > warmup else 0.0)
            totals["class"] += loss_class.item()
            totals["gate"] += loss_gate.item()
            totals["n"] += 1
            step += 1

        logits, gate, _ = predict(ema, val, val_rows)
        report = evaluate_logits(logits, gate, [val.entries[r] for r in val_rows], labels)
        n = totals["n"]
        elapsed = time.time() - started
        eta = elapsed / (epoch + 1) * (args.epochs - epoch - 1)
        history.append(
            {
                "epoch": epoch + 1,
                "seconds": round(time.time() - t_epoch, 1),
                "loss_class": round(totals["class"] / n, 4),
                "loss_gate": round(totals["gate"] / n, 4),
                "loss_adversary": round(totals["adv"] / n, 4),
                "adversary_accuracy": round(totals["adv_acc"] / n, 3),
                "loss_consistency": round(totals["js"] / n, 4),
                "val": report,
            }
        )
        log(
            f"epoch {epoch + 1}/{args.epochs} ({time.time() - t_epoch:.0f} s, ETA {eta / 60:.1f} min): "
            f"loss {totals['class'] / n:.3f} gate {totals['gate'] / n:.3f} adv {totals['adv'] / n:.3f} "
            f"(acc {totals['adv_acc'] / n:.2f}) js {totals['js'] / n:.4f} | val acc {report['accuracy']:.3f} f1 {report['macro_f1']:.3f} "
            f"auc {report['auc']:.3f} " + " ".join(f"{k} {v:.3f}" for k, v in report["per_source"].items())
        )

    for h in mixstyle_hooks:
        h.remove()
    ema.eval()
    torch.save({"state_dict": ema.state_dict(), "labels": labels}, os.path.join(args.out, "network.pt"))
    export(ema, val, val_rows, args.out)
    summary = {
        "labels": labels,
        "sources": eardrum_sources,
        "args": vars(args),
        "torch": torch.__version__,
        "seconds": round(time.time() - started),
        "history": history,
        "final_val": history[-1]["val"] if history else None,
    }
    with open(os.path.join(args.out, "training.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    log(f"done in {(time.time() - started) / 60:.1f} min → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
