"""Jobs for tests/test_dispatch.py, importable by spawned worker processes."""
import os
import signal
import time
from pathlib import Path


def square(x, marker_dir=None, die_on=None, sleep=0.0):
    """x**2; the first attempt of job ``die_on`` kills its own worker process (SIGKILL)
    in the middle of the run, as an out-of-memory kill or a lost node would."""
    if sleep:
        time.sleep(sleep)
    if die_on is not None and x == die_on:
        marker = Path(marker_dir) / f"started-{x}"
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
    return {"x": x, "y": x * x, "pid": os.getpid()}


def always_die(x):
    os.kill(os.getpid(), signal.SIGKILL)


def fail(x):
    raise ValueError(f"bad input {x}")


# ---------------------------------------------------------------- a tiny model for run_grid
def _tiny_class():
    import torch

    class Tiny(torch.nn.Module):
        """A real (tiny) CNN returning (features, logits=None) like tecore.zoo models; with
        ``kill_dir`` its process kills itself in its 5th forward pass, once."""

        def __init__(self, kill_dir=None):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 8, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(8)
            self.pool = torch.nn.AdaptiveAvgPool2d(2)
            self.kill_dir, self.calls = kill_dir, 0

        def forward(self, x):
            self.calls += 1
            if self.kill_dir is not None and self.calls == 5:
                marker = Path(self.kill_dir) / "killed"
                if not marker.exists():
                    marker.write_text(str(os.getpid()))
                    os.kill(os.getpid(), signal.SIGKILL)
            return self.pool(torch.relu(self.bn(self.conv(x)))).flatten(1), None

    return Tiny


def _pre(img):
    import torch

    return torch.as_tensor(img, dtype=torch.float32)[None] / 16.0


class TinyFactory:
    """Picklable ``factory() -> (model, preprocess)``: same initial weights every call."""

    def __init__(self, kill_dir=None):
        self.kill_dir = kill_dir

    def __call__(self):
        import torch

        torch.manual_seed(123)
        return _tiny_class()(self.kill_dir), _pre
