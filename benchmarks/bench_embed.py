"""Extraction throughput: ``gaussaudit.extract.embed`` vs a bare ``model(x)`` loop.

Both run the same module (torchvision ResNet-18, random weights, 32x32 inputs)
over the same tensors with the same batch size, in one process; the ratio
bare_time / embed_time is the fraction of the bare throughput that ``embed``
keeps (target >= 0.90). Run: ``python benchmarks/bench_embed.py [--n 8192]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gaussaudit import datasets, encoders
from gaussaudit.datasets import DatasetSpec, LoadedDataset
from gaussaudit.encoders import Encoder, EncoderSpec
from gaussaudit.extract import embed

SHAPE = (3, 32, 32)
STATE: dict = {}


def _module():
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None)
    net.fc = torch.nn.Identity()
    return net.eval()


def _to_tensor(item):
    return torch.from_numpy(item).view(*SHAPE)


def _forward(module, batch):
    return module(batch)


def make_encoder(spec, argument, **_):
    return Encoder(
        "bench-resnet18",
        STATE["module"],
        "vector",
        512,
        "penultimate",
        "none",
        _to_tensor,
        torch.stack,
        _forward,
    )


def make_data(spec, argument, **_):
    return LoadedDataset(STATE["items"], "vector", None, {"name": "bench"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, int(np.prod(SHAPE)))).astype(np.float32)
    STATE["items"] = list(x)
    STATE["module"] = _module().to(args.device)
    encoders.registry.register(
        EncoderSpec("bench-resnet18", "bench", f"{__name__}:make_encoder", ("vector",), 512)
    )
    datasets.registry.register(
        DatasetSpec("bench-data", "bench", f"{__name__}:make_data", "vector")
    )
    tensors = torch.from_numpy(x).view(-1, *SHAPE)
    with torch.inference_mode():  # warm-up
        STATE["module"](tensors[: args.batch_size].to(args.device))

    def bare() -> None:
        with torch.inference_mode():
            for i in range(0, args.n, args.batch_size):
                STATE["module"](tensors[i : i + args.batch_size].to(args.device)).cpu()

    def pipeline() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            embed(
                "bench-resnet18",
                "bench-data",
                out=Path(tmp) / "e.npy",
                device=args.device,
                batch_size=args.batch_size,
                progress=False,
                force=True,
            )

    times = {}
    for name, func in (("bare", bare), ("embed", pipeline), ("bare2", bare), ("embed2", pipeline)):
        start = time.perf_counter()
        func()
        times[name] = time.perf_counter() - start
    t_bare = min(times["bare"], times["bare2"])
    t_embed = min(times["embed"], times["embed2"])
    print(
        f"device {args.device}, n={args.n}, batch {args.batch_size}, torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"bare model(x) loop : {t_bare:7.2f} s  {args.n / t_bare:8.1f} items/s")
    print(f"gaussaudit embed   : {t_embed:7.2f} s  {args.n / t_embed:8.1f} items/s")
    print(f"embed keeps {t_bare / t_embed:.1%} of the bare throughput (target >= 90%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
