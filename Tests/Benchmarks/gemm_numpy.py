#!/usr/bin/env python3
"""Times numpy's single-thread sgemm at 1024^3 (the peer for `weakspot bench`'s GEMM figure).

Run it in the same sitting as `weakspot bench` (or WEAKSPOT_BENCH=1 swift test -c release
--filter LinalgBenchmarkTests) and compare the GFLOP/s. The OpenBLAS core-type and L2 overrides
some machines set are removed for this process only, and BLAS is limited to one thread
(threadpoolctl when installed, the BLAS environment variables otherwise).
"""
import os
import sys

for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(name, None)
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"

import time  # noqa: E402

import numpy as np  # noqa: E402


def median_gflops(size: int, repetitions: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    c = np.empty((size, size), dtype=np.float32)
    np.matmul(a, b, out=c)  # warm-up
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - start)
    times.sort()
    return 2.0 * size ** 3 / times[len(times) // 2] / 1e9


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    try:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1):
            gflops = median_gflops(size, repetitions)
    except ImportError:
        gflops = median_gflops(size, repetitions)
    print(f"numpy {np.__version__} sgemm {size}^3, 1 thread: {gflops:.1f} GFLOP/s (median of {repetitions})")


if __name__ == "__main__":
    main()
