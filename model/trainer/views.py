"""Reads the views that model/train/render-views.ts wrote: `<name>.bin` (uint8 RGB views back to back, already
framed, white-balanced and masked by the app's own preprocessing) and `<name>.json` (one entry per view)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F


class Views:
    def __init__(self, directory: str, name: str):
        with open(os.path.join(directory, f"{name}.json"), encoding="utf-8") as f:
            index = json.load(f)
        self.size = int(index["size"])
        self.mean = torch.tensor(index["mean"], dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(index["std"], dtype=torch.float32).view(1, 3, 1, 1)
        self.entries = index["entries"]
        bytes_per_view = self.size * self.size * 3
        path = os.path.join(directory, f"{name}.bin")
        if os.path.getsize(path) != bytes_per_view * len(self.entries):
            raise ValueError(f"{path}: size does not match its index ({len(self.entries)} views)")
        self.pixels = np.memmap(path, dtype=np.uint8, mode="r", shape=(len(self.entries), self.size, self.size, 3))
        # sample id -> its view rows (row of the clean view first)
        self.by_sample: dict[int, list[int]] = {}
        for row, e in enumerate(self.entries):
            self.by_sample.setdefault(e["sample"], []).append(row)
        self.samples = sorted(self.by_sample)

    def sample_entry(self, sample: int) -> dict:
        return self.entries[self.by_sample[sample][0]]

    def batch_uint8(self, rows: list[int]) -> torch.Tensor:
        """[N, 3, S, S] float32 on the 0..255 scale."""
        x = torch.from_numpy(np.ascontiguousarray(self.pixels[rows])).float()
        return x.permute(0, 3, 1, 2).contiguous()

    def normalise(self, x255: torch.Tensor) -> torch.Tensor:
        return (x255 - self.mean) / self.std


def circle_mask(size: int) -> torch.Tensor:
    """The same soft circular mask as model/field-of-view.ts `circleMask`."""
    r = size / 2
    idx = torch.arange(size, dtype=torch.float64) + 0.5 - r
    d = torch.sqrt(idx.view(-1, 1) ** 2 + idx.view(1, -1) ** 2)
    return ((r - d) / 2).clamp(0, 1).float().view(1, 1, size, size)


def rotate_flip(x255: torch.Tensor, generator: torch.Generator, mask: torch.Tensor) -> torch.Tensor:
    """Random rotation (any angle) and horizontal flip per picture, then the circular mask again: an
    otoscope can be held at any angle, and left and right ears are mirror images."""
    n = x255.shape[0]
    angle = torch.rand(n, generator=generator) * 2 * math.pi
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * flip
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * flip
    theta[:, 1, 1] = cos
    grid = F.affine_grid(theta, list(x255.shape), align_corners=False)
    out = F.grid_sample(x255, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out * mask


def colour_jitter(x255: torch.Tensor, generator: torch.Generator, strength: float, mask: torch.Tensor) -> torch.Tensor:
    """Colour changes after the app's white balance (which removes most of a camera's cast before the network
    sees it, but leaves its own signature): per-picture channel gains, brightness, contrast and saturation, all
    log-normal around 1 with `strength` as their spread. Relations between colours inside one picture (a red
    bulge against a grey drum) survive; the camera's overall rendering does not."""
    n = x255.shape[0]

    def spread(*shape):
        return torch.exp(torch.randn(*shape, generator=generator) * strength)

    gains = spread(n, 3, 1, 1)
    brightness = spread(n, 1, 1, 1)
    contrast = spread(n, 1, 1, 1)
    saturation = spread(n, 1, 1, 1)
    y = x255 * gains * brightness
    grey = y.mean(dim=1, keepdim=True)
    y = grey + (y - grey) * saturation
    mean = (y * mask).sum(dim=(1, 2, 3), keepdim=True) / (mask.sum() * 3)
    y = mean + (y - mean) * contrast
    return y.clamp(0, 255) * mask


def add_mixstyle(blocks, probability: float, alpha: float, generator: torch.Generator) -> list:
    """MixStyle (Zhou et al., ICLR 2021) after the given blocks while training: each picture's feature
    statistics (per-channel mean and spread, which carry a camera's colour, contrast and noise) are mixed
    with another picture's, so the later layers cannot rely on them. Inference is untouched (the hooks do
    nothing in eval mode), so the exported network has no trace of it. Returns the hook handles."""
    beta = torch.distributions.Beta(torch.tensor(alpha), torch.tensor(alpha))

    def hook(module, _inputs, out):
        if not module.training or torch.rand(1, generator=generator).item() > probability:
            return out
        n = out.shape[0]
        mu = out.mean(dim=(2, 3), keepdim=True).detach()
        sigma = (out.var(dim=(2, 3), keepdim=True) + 1e-6).sqrt().detach()
        lam = beta.sample((n, 1, 1, 1))
        perm = torch.randperm(n, generator=generator)
        mixed_mu = mu * lam + mu[perm] * (1 - lam)
        mixed_sigma = sigma * lam + sigma[perm] * (1 - lam)
        return (out - mu) / sigma * mixed_sigma + mixed_mu

    return [b.register_forward_hook(hook) for b in blocks]
