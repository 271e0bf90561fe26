"""Physics-informed neural network solvers (torch)."""

from .solver import PINN, NNGalerkin, PinnFixed, PinnTrainable

__all__ = ["NNGalerkin", "PINN", "PinnFixed", "PinnTrainable"]
