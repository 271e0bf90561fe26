"""The neural solvers, each written once for every dimension d = 1-4.

One small module per registered method (they import no torch, so the registry and
``qbench list`` stay light):

* :mod:`.nn_galerkin` (``nn-galerkin``), :mod:`.pinn_fixed` (``pinn-fixed``) and
  :mod:`.pinn_trainable` (``pinn-trainable``): presets of :class:`.energy_modes.PINN`;
* :mod:`.pinn` (``pinn``): the residual PINN;
* :mod:`.deepxde` (``deepxde``): DeepXDE as a peer.

Their shared parts, imported when a solve starts: :mod:`.base` (the ``NeuralSolver`` base,
torch set-up), :mod:`.trial` (the trial function), :mod:`.functionals` (energies and
losses), :mod:`.rules` (training and fine rules), :mod:`.training` (the Adam/L-BFGS loop),
:mod:`.states` (state sets, rotation, checks, evaluation), and the trainers
:mod:`.energy_training`, :mod:`.residual_training` and :mod:`.deepxde_runtime`.
"""
