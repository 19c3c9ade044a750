"""ImageNet MobileNetV2-1.0 for fine-tuning, rebuilt from the ONNX Model Zoo int8 file in ../shared/models.

The int8 file has batch norm folded into its convolutions. Fine-tuning needs batch norm back, so each conv is
dequantised (w = (q - zero_point) * scale, per output channel; bias = q_bias * input_scale * w_scale) and given a
BatchNorm2d that first reproduces the folded conv exactly (mean 0, var 1 - eps, gamma 1, beta = bias). Then the
conv outputs are measured on training photos and the statistics are moved to their real values while keeping
the eval-mode output unchanged (gamma = sqrt(var + eps), beta = mean + bias): train-mode batch statistics then
match what the layer already computes.
"""

from __future__ import annotations

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper


def _dequantised_convs(onnx_path: str):
    model = onnx.load(onnx_path)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    convs = []
    for node in model.graph.node:
        if node.op_type != "QLinearConv":
            continue
        x_scale = float(init[node.input[1]])
        w_q = init[node.input[3]].astype(np.float32)
        w_scale = init[node.input[4]].astype(np.float32)
        w_zp = init[node.input[5]].astype(np.float32)
        bias_q = init[node.input[8]].astype(np.float64)
        shape = (-1,) + (1,) * (w_q.ndim - 1)
        weight = (w_q - w_zp.reshape(shape)) * w_scale.reshape(shape)
        bias = bias_q * x_scale * w_scale.astype(np.float64)
        convs.append((node.name, weight.astype(np.float32), bias.astype(np.float32)))
    return convs


def _conv_bn_pairs(net: torchvision.models.MobileNetV2):
    """Every (conv, bn) of the network in forward order (the order of the ONNX file's QLinearConv nodes)."""
    pairs = []
    modules = list(net.features.modules())
    for i, m in enumerate(modules):
        if isinstance(m, torch.nn.Conv2d):
            bn = modules[i + 1]
            assert isinstance(bn, torch.nn.BatchNorm2d), f"conv {i} is not followed by batch norm"
            pairs.append((m, bn))
    return pairs


def imagenet_mobilenet_v2(onnx_path: str) -> tuple[torchvision.models.MobileNetV2, list[torch.Tensor]]:
    """MobileNetV2-1.0 whose eval-mode features equal the dequantised ONNX network. Returns it with the folded
    biases (one per conv, in order), which `rebuild_batch_norm` needs."""
    net = torchvision.models.mobilenet_v2(weights=None)
    convs = _dequantised_convs(onnx_path)
    pairs = _conv_bn_pairs(net)
    if len(convs) != len(pairs):
        raise ValueError(f"{onnx_path}: {len(convs)} convolutions, the network has {len(pairs)}")
    biases = []
    with torch.no_grad():
        for (name, weight, bias), (conv, bn) in zip(convs, pairs):
            if tuple(conv.weight.shape) != weight.shape:
                raise ValueError(f"{name}: weight {weight.shape} does not fit {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(weight))
            b = torch.from_numpy(bias)
            bn.running_mean.zero_()
            bn.running_var.fill_(1 - bn.eps)
            bn.weight.fill_(1)
            bn.bias.copy_(b)
            biases.append(b)
    net.classifier = torch.nn.Identity()
    return net, biases


@torch.no_grad()
def rebuild_batch_norm(net: torchvision.models.MobileNetV2, biases: list[torch.Tensor], batches) -> None:
    """Measures each conv's output mean/variance on `batches` (normalised NCHW tensors) with the network as it is,
    then sets every batch norm to those statistics without changing what the network computes in eval mode."""
    pairs = _conv_bn_pairs(net)
    sums = [None] * len(pairs)
    squares = [None] * len(pairs)
    counts = [0] * len(pairs)
    hooks = []
    for k, (conv, _) in enumerate(pairs):
        def hook(_m, _inp, out, k=k):
            y = out.double()
            s = y.sum(dim=(0, 2, 3))
            q = (y * y).sum(dim=(0, 2, 3))
            sums[k] = s if sums[k] is None else sums[k] + s
            squares[k] = q if squares[k] is None else squares[k] + q
            counts[k] += y.shape[0] * y.shape[2] * y.shape[3]
        hooks.append(conv.register_forward_hook(hook))
    net.eval()
    for x in batches:
        net.features(x)
    for h in hooks:
        h.remove()
    for k, (_, bn) in enumerate(pairs):
        mean = sums[k] / counts[k]
        var = (squares[k] / counts[k] - mean * mean).clamp_min(1e-6)
        bn.running_mean.copy_(mean.float())
        bn.running_var.copy_(var.float())
        bn.weight.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.copy_((mean + biases[k].double()).float())
