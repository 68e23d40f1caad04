"""Per-layer time of PyTorch's CPU convolutions (oneDNN where torch routes them there) at MultiVae's
PolyMNIST sizes, batch 128, one thread: forward, and backward to the weights (and to the input but for
the first layer, whose input is data), the work one training step does per layer. For BENCHMARKS.md's
choice between im2col + OpenBLAS GEMMs (ours) and oneDNN: compare with `mvvae bench-gemm` on the same
layers' GEMM shapes (printed beside each row).

  python conv_layers.py [--batch 128] [--seconds 2]"""
import argparse
import time

import torch
import torch.nn.functional as F

# name, transposed, in channels, out channels, input side, output side, output padding
LAYERS = [
    ("enc conv1 3→32, 28→14", False, 3, 32, 28, 14, 0),
    ("enc conv2 32→64, 14→7", False, 32, 64, 14, 7, 0),
    ("enc conv3 64→128, 7→4", False, 64, 128, 7, 4, 0),
    ("dec convT1 128→64, 4→7", True, 128, 64, 4, 7, 0),
    ("dec convT2 64→32, 7→14", True, 64, 32, 7, 14, 1),
    ("dec convT3 32→3, 14→28", True, 32, 3, 14, 28, 1),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, mkldnn (oneDNN) available: {torch.backends.mkldnn.is_available()}, one thread")
    print("| layer | torch ms (fwd + bwd) | GEMM shapes MxNxK of the same work (im2col) |")
    print("|---|---|---|")
    for name, transposed, cin, cout, side, out_side, out_pad in LAYERS:
        x = torch.rand(args.batch, cin, side, side, requires_grad=name.find("conv1") < 0)
        if transposed:
            w = torch.randn(cin, cout, 3, 3, requires_grad=True)
            step = lambda: F.conv_transpose2d(x, w, torch.zeros(cout), stride=2, padding=1, output_padding=out_pad)
        else:
            w = torch.randn(cout, cin, 3, 3, requires_grad=True)
            step = lambda: F.conv2d(x, w, torch.zeros(cout), stride=2, padding=1)
        y = step()
        assert y.shape[-1] == out_side, (name, y.shape)
        g = torch.randn_like(y)

        def once():
            step().backward(g)

        for _ in range(3):
            once()
        n, began = 0, time.perf_counter()
        while time.perf_counter() - began < args.seconds:
            once()
            n += 1
        ms = 1000 * (time.perf_counter() - began) / n
        # Ours (Sources/MVCore/Autodiff/Convolution.swift): the pixels of the smaller map times the patch of
        # the larger (3·3·its channels): forward, weight gradient and input gradient, one GEMM each.
        small_side, small_c, big_c = (side, cin, cout) if transposed else (out_side, cout, cin)
        pixels, patch = args.batch * small_side * small_side, 9 * big_c
        shapes = f"{pixels}x{small_c}x{patch}, {patch}x{small_c}x{pixels}" + ("" if "conv1" in name else f", {pixels}x{patch}x{small_c}")
        print(f"| {name} | {ms:.2f} | {shapes} |")


if __name__ == "__main__":
    main()
