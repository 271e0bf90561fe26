"""Physics-informed neural network solvers (torch)."""

from .solver import PINN, Pinn, PinnFixed, PinnTrainable

__all__ = ["PINN", "Pinn", "PinnFixed", "PinnTrainable"]
