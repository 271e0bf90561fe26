"""Shared numerics: what problems and solvers both compute with, written once for every d.

Each module holds one job; none imports anything from qbench but :mod:`qbench._validation`.

* :mod:`~qbench.numerics.quadrature`: Gauss-Legendre rules on panels that end at the jumps of V.
* :mod:`~qbench.numerics.sturm`: isolating one eigenvalue by bisection on a Sturm count.
* :mod:`~qbench.numerics.bounds`: an energy above a given state, for any V.
* :mod:`~qbench.numerics.signs`: the sign convention of a sampled state (rising from the left).
* :mod:`~qbench.numerics.grids`: grids with nodes on the jumps, per axis and tensor products.
* :mod:`~qbench.numerics.finite_volume`: the vertex-centred finite-volume Hamiltonian on a tensor grid.
* :mod:`~qbench.numerics.eigensolvers`: lowest eigenpairs of a sparse symmetric matrix (eigsh, LOBPCG).
* :mod:`~qbench.numerics.splines`: tensor cubic splines through nodal values, C^1 at jumps, Laplacians.
* :mod:`~qbench.numerics.tensor`: operators applied along one axis of a tensor, Kronecker sums.
* :mod:`~qbench.numerics.subspace`: orthonormal and real bases, inverse iteration, Rayleigh-Ritz.
* :mod:`~qbench.numerics.fast_diagonalization`: a Kronecker sum plus a separable V, axis by axis.
* :mod:`~qbench.numerics.block_krylov`: block shift-invert Krylov for a non-symmetric operator.
* :mod:`~qbench.numerics.chebyshev`: Chebyshev-Lobatto collocation of one axis cut into pieces.
* :mod:`~qbench.numerics.cell_polynomials`: tensor Chebyshev polynomials on cells, their integrals.
* :mod:`~qbench.numerics.collocation`: the tensor Chebyshev collocation eigenproblem, solved.
* :mod:`~qbench.numerics.dvr`: the sine DVR of one axis: points, exact kinetic matrix, basis functions.
* :mod:`~qbench.numerics.tensor_train`: sum-of-products MPOs, MPS truncation and evaluation, in numpy.
"""

#: Bumped, deliberately, whenever a change to the numerics or the grading may move a stored number
#: beyond rounding; every run records it (``provenance.json``, ``environment.numerics_version``),
#: and ``qbench reproduce`` names both versions when numbers moved.
#:
#: * 1: runs made before the field existed.
#: * 2: one code path for every d: grading orders a solution's states by energy in every d (1D
#:   kept the solver's order); spectral takes a separable V (every 1D V) through per-axis
#:   eigenvectors, so a basis inside a degenerate level may differ.
#: * 3: certificates: a state is ok only when qbench certifies it (statuses move); neural
#:   solvers report the Rayleigh quotient of their psi (trained E in ``trained_energy``); d >= 3
#:   neural training points are redrawn; the ``potential`` reference is a residual enclosure;
#:   fd's and shooting's states are tensor cubic splines, C^1 at the jumps, in every d (fd was
#:   multilinear above 1D; the 1D spline was C^0 at a jump): their wavefunction errors move.
#: * 4: 1D certificates also bound the states together (Rayleigh-Ritz from above, Lehmann-Maehly
#:   with a Sturm-confirmed shift from below): intervals narrow, so statuses may move; d >= 2
#:   certificates change only in rounding (batched finite differences, grouped evaluation).
NUMERICS_VERSION = 4
