"""Physics-informed neural network solvers (torch)."""

from .residual import ResidualPinn
from .solver import PINN, NNGalerkin, PinnFixed, PinnTrainable

__all__ = ["PINN", "NNGalerkin", "PinnFixed", "PinnTrainable", "ResidualPinn"]
