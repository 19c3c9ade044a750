"""The fine-tuned network (MobileNetV2 features, class head, eardrum gate), the gradient-reversal layer of the
source adversary, prediction, the weights' moving average, and the ONNX export that the TypeScript import is
held equal to. Shared by train.py and soup.py."""

from __future__ import annotations

import json
import os
import time

import torch
import torch.nn as nn

from views import Views


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.scale * grad, None


class EardrumNet(nn.Module):
    """Backbone → last feature map → global average → class head and eardrum gate (both linear, so the class
    activation map is exact and `eardrum adapt` can retrain them on pooled features)."""

    def __init__(self, features: nn.Module, classes: int, dropout: float):
        super().__init__()
        self.features = features
        self.dropout = nn.Dropout(dropout)
        self.class_logits = nn.Linear(1280, classes)
        self.gate_logit = nn.Linear(1280, 1)

    def forward(self, x):
        fmap = self.features(x)
        pooled = fmap.mean(dim=(2, 3))
        return fmap, pooled, self.class_logits(self.dropout(pooled)), self.gate_logit(pooled)


class Exported(nn.Module):
    def __init__(self, net: EardrumNet):
        super().__init__()
        self.net = net

    def forward(self, x):
        fmap, _, logits, gate = self.net(x)
        return fmap, logits, gate


def log(msg: str) -> None:
    print(f"[train.py {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@torch.no_grad()
def predict(net: EardrumNet, views: Views, rows: list[int], batch: int = 64):
    net.eval()
    out_logits, out_gate, out_pooled = [], [], []
    for i in range(0, len(rows), batch):
        x = views.normalise(views.batch_uint8(rows[i : i + batch]))
        _, pooled, logits, gate = net(x)
        out_logits.append(logits)
        out_gate.append(gate[:, 0])
        out_pooled.append(pooled)
    return torch.cat(out_logits), torch.cat(out_gate), torch.cat(out_pooled)


def ema_update(ema: nn.Module, live: nn.Module, decay: float) -> None:
    with torch.no_grad():
        for (k, e), (_, v) in zip(ema.state_dict().items(), live.state_dict().items()):
            if e.dtype.is_floating_point:
                e.mul_(decay).add_(v, alpha=1 - decay)
            else:
                e.copy_(v)


def export(net: EardrumNet, val: Views, val_rows: list[int], out: str) -> None:
    """ONNX (opset 13, batch norm folded by the exporter in eval mode) plus PyTorch's outputs for a few
    validation views, which the TypeScript import is held equal to."""
    wrapper = Exported(net).eval()
    dummy = torch.zeros(1, 3, val.size, val.size)
    torch.onnx.export(
        wrapper,
        dummy,
        os.path.join(out, "network.onnx"),
        opset_version=13,
        input_names=["input"],
        output_names=["feature_map", "class_logits", "gate_logit"],
        dynamic_axes={"input": {0: "batch"}, "feature_map": {0: "batch"}, "class_logits": {0: "batch"}, "gate_logit": {0: "batch"}},
        do_constant_folding=True,
    )
    rows = val_rows[:: max(1, len(val_rows) // 6)][:6]
    with torch.no_grad():
        fmap, logits, gate = wrapper(val.normalise(val.batch_uint8(rows)))
    parity = {
        "views": "val",
        "rows": rows,
        "files": ["/".join(val.entries[r]["file"].split("/")[-3:]) for r in rows],
        "class_logits": logits.tolist(),
        "gate_logit": gate[:, 0].tolist(),
        "pooled_first8": fmap.mean(dim=(2, 3))[:, :8].tolist(),
    }
    with open(os.path.join(out, "parity.json"), "w", encoding="utf-8") as f:
        json.dump(parity, f)
