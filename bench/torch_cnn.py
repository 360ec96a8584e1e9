#!/usr/bin/python3
"""PyTorch CPU reference for awd's CNN training speed.

Trains the CNN of awd (features [32, M, 64, M, 128, 128, M], 3x3 convolutions
with padding 1 and bias, ReLU, 2x2 max-pools, adaptive average pool to 1x1,
fc 128 -> 20 without bias, ReLU, classifier 20 -> 10) on random MNIST-shaped
float32 inputs, as awd's `BenchmarkTrainCNN` and `awd bench cnn` do: SGD with
lr 0.1, cross-entropy, gradient-norm clipping at 5, batch 128. Prints one
line per thread count with samples/s (best epoch of --repeats) and, from the
autograd profiler, the seconds spent in the convolutions (forward and
backward) with their GFLOP/s.

Needs Debian's python3-torch (`apt-get install python3-torch`, or
`AWD_TORCH=1 scripts/deps.sh`); run it with Debian's interpreter:

    /usr/bin/python3 bench/torch_cnn.py --threads 1,2

awd never needs Python for its own build or tests.
"""

import argparse
import json
import time

import torch
import torch.nn as nn


def make_model(channels=1, outputs=10):
    layers, c = [], channels
    for v in [32, "M", 64, "M", 128, 128, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    model = nn.Module()
    model.features = nn.Sequential(*layers)
    model.pool = nn.AdaptiveAvgPool2d(1)
    model.fc = nn.Linear(c, 20, bias=False)
    model.classifier = nn.Linear(20, outputs)

    def forward(x):
        x = model.pool(model.features(x)).flatten(1)
        return model.classifier(torch.relu(model.fc(x)))

    model.forward = forward
    return model


def conv_flops(h=28, w=28, channels=1):
    """Multiply-adds x 2 of the convolutions per sample, forward only."""
    flops, c = 0, channels
    for v in [32, "M", 64, "M", 128, 128, "M"]:
        if v == "M":
            h, w = h // 2, w // 2
        else:
            flops += 2 * h * w * v * 9 * c
            c = v
    return flops


def epoch(model, opt, xs, ys, batch):
    loss_fn = nn.CrossEntropyLoss()
    for off in range(0, xs.shape[0], batch):
        x, y = xs[off:off + batch], ys[off:off + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model.forward(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()


def conv_seconds(model, opt, xs, ys, batch):
    """Wall seconds of one epoch spent in the convolutions: forward
    (aten::convolution) and backward (aten::convolution_backward: weight,
    bias and input gradients), from the autograd profiler."""
    with torch.autograd.profiler.profile() as prof:
        epoch(model, opt, xs, ys, batch)
    total = 0.0
    for e in prof.key_averages():
        if e.key in ("aten::convolution", "aten::convolution_backward"):
            total += e.cpu_time_total
    return total / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--n", type=int, default=1024, help="samples per epoch")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5, help="timed epochs per thread count (best is kept)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args()

    torch.manual_seed(1)
    xs = torch.rand(args.n, 1, 28, 28, dtype=torch.float32)
    ys = torch.randint(0, 10, (args.n,))
    # forward + weight gradient + input gradient (none for the first layer)
    first = 2 * 28 * 28 * 32 * 9
    flops = 3 * conv_flops() - first
    for t in [int(s) for s in args.threads.split(",")]:
        torch.set_num_threads(t)
        model = make_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        epoch(model, opt, xs, ys, args.batch)  # warm-up
        best = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            epoch(model, opt, xs, ys, args.batch)
            best = min(best, time.perf_counter() - t0)
        conv = conv_seconds(model, opt, xs, ys, args.batch)
        row = {
            "impl": "pytorch " + torch.__version__,
            "threads": t,
            "batch": args.batch,
            "samples_per_s": args.n / best,
            "conv_s_per_epoch": conv,
            "conv_gflops": flops * args.n / conv / 1e9 if conv > 0 else 0.0,
            "epoch_s": best,
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(f"pytorch {torch.__version__} threads {t}: {row['samples_per_s']:.0f} samples/s "
                  f"(epoch of {args.n}: {best:.3f} s), convolutions {conv:.3f} s/epoch "
                  f"= {row['conv_gflops']:.1f} GFLOP/s (profiled epoch)")


if __name__ == "__main__":
    main()
