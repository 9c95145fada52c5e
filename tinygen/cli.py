"""The ``tinygen`` command. Each subcommand is a ``cmd_<name>(args)`` function plus a few lines
in ``build_parser``; heavy imports happen inside the command so ``tinygen --help`` stays fast."""

import argparse
import sys

GIB = 1024**3


def cmd_info(args):
    """Print the versions, backends and devices that tinygen sees."""
    import numpy

    from tinygen import __version__, backend, cuda, idle_threads, kernels, memory

    print(f"tinygen  {__version__}")
    print(f"Python   {sys.version.split()[0]}")
    print(f"NumPy    {numpy.__version__}")
    print(f"Numba    {backend.numba_version() or 'not installed'}")
    if cuda.is_available():
        cupy = backend.cupy_module()
        print(f"CuPy     {cupy.__version__} (CUDA runtime {cuda.runtime_version()})")
        for index in range(cuda.device_count()):
            _, total = cuda.get_device_memory(index)
            print(f"  cuda:{index}  {cuda.get_device_name(index)}, {total / GIB:.1f} GiB")
    else:
        print(f"CuPy     not available ({backend.CUDA_INSTALL_HINT})")
    try:
        device = backend.default_device()
    except ValueError as error:
        print(f"tinygen info: error: bad $TINYGEN_DEVICE: {error}", file=sys.stderr)
        return 2
    usable = device.type == "cpu" or cuda.is_available()
    note = "default; set with $TINYGEN_DEVICE" if usable else "default, but CuPy has no GPU"
    print(f"Device   {device} ({note})")
    try:
        mode = kernels.mode()
    except ValueError as error:
        print(f"tinygen info: error: {error}", file=sys.stderr)
        return 2
    print(f"Kernels  {mode} (set with $TINYGEN_KERNELS=fused|reference)")
    print("Memory   " + ("freed blocks up to 1 GiB kept for reuse (TINYGEN_KEEP_FREED_MEMORY=0 "
                         "returns them)" if memory.kept else "malloc's own settings"))
    print(f"BLAS     {idle_threads.describe(idle_threads.OPENBLAS)}")
    print(f"OpenMP   {idle_threads.describe(idle_threads.OPENMP)}")
    return 0


def cmd_bench_kernels(args):
    """Time every kernel: reference, fused, PyTorch; see ``tinygen/bench/kernels.py``."""
    from tinygen.bench import kernels
    return kernels.run(args)


def cmd_download(args):
    """Fetch the MNIST IDX files into the cache (or --dest), checksums verified."""
    from tinygen.data import DownloadError, download_mnist

    try:
        mirror = {} if args.base_url is None else {"base_url": args.base_url}
        dest = download_mnist(args.dest, timeout=args.timeout, **mirror)
    except DownloadError as error:
        print(f"tinygen download: error: {error}", file=sys.stderr)
        return 1
    print(f"MNIST is in {dest}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinygen", description="A small autograd engine that trains generative models.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = commands.add_parser("info", help="show versions, backends and devices")
    info.set_defaults(run=cmd_info)

    from tinygen.train.command import (add_bench_profile_parser, add_sample_parser,
                                       add_train_parser)
    add_train_parser(commands)
    add_sample_parser(commands)

    download = commands.add_parser("download", help="download MNIST into the data cache")
    download.add_argument("--dest", default=None, help="directory (default: $TINYGEN_CACHE/mnist "
                          "or ~/.cache/tinygen/mnist, where tinygen train looks)")
    download.add_argument("--base-url", default=None,
                          help="mirror of the IDX files (default: PyTorch's S3 mirror)")
    download.add_argument("--timeout", type=float, default=30, help="seconds per connection")
    download.set_defaults(run=cmd_download)

    from tinygen.bench.kernels import add_arguments as add_kernel_bench_arguments
    bench = commands.add_parser("bench", help="time tinygen against its references and PyTorch")
    suites = bench.add_subparsers(dest="suite", metavar="SUITE", required=True)
    bench_kernels = suites.add_parser("kernels", help="fused kernels vs references, GB/s")
    add_kernel_bench_arguments(bench_kernels, out_dir="benchmarks")
    bench_kernels.set_defaults(run=cmd_bench_kernels)
    add_bench_profile_parser(suites)
    return parser


def main(argv=None):
    """Entry point of the ``tinygen`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.run(args)
