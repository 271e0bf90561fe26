"""The fixed torch workload that neural training times are divided by.

1000 Adam steps of a 2 x 64 tanh MLP fitted to sin(3x) on 512 points, float64, on one thread;
``calib_seconds()`` returns the median wall time of 3 repetitions. A training time divided by it
is a ratio that depends little on how fast or how busy the machine is (both slow down together).

    python benchmarks/calibration.py      # prints the seconds
"""

from __future__ import annotations

import statistics
import time


def calib_seconds() -> float:
    """Median seconds of 3 runs of the workload, on one torch thread (restored after)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        times = []
        for _ in range(3):
            torch.manual_seed(0)
            x = torch.linspace(-1, 1, 512, dtype=torch.float64)[:, None]
            y = torch.sin(3 * x)
            net = torch.nn.Sequential(
                torch.nn.Linear(1, 64),
                torch.nn.Tanh(),
                torch.nn.Linear(64, 64),
                torch.nn.Tanh(),
                torch.nn.Linear(64, 1),
            ).double()
            optimizer = torch.optim.Adam(net.parameters(), 1e-3)
            start = time.perf_counter()
            for _ in range(1000):
                optimizer.zero_grad()
                loss = ((net(x) - y) ** 2).mean()
                loss.backward()
                optimizer.step()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    print(f"{calib_seconds():.3f}")
