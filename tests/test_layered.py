"""The asymmetric step well and the Kronig-Penney chain: pinned energies, geometry, validation.

Their energies are transfer-matrix roots like the canonical wells'; test_transfer polishes them
against 50-digit mpmath roots and test_pyslise against pyslise.
"""

from __future__ import annotations

import numpy as np
import pytest

from qbench.problems import KronigPenney, StepWell

# Transfer-matrix roots, confirmed by 50-digit mpmath roots (test_transfer) and pyslise (test_pyslise).
PINNED = {
    "step_well": ["3.96902341315", "11.2827389548", "16.0032797235"],
    "kronig_penney": ["4.90117020249", "5.15882384343", "5.46966178807"],
}
BUILD = {"step_well": StepWell, "kronig_penney": KronigPenney}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_first_three_reference_energies_are_pinned(name):
    energies = BUILD[name]().reference(3).energies
    for energy, text in zip(energies, PINNED[name]):
        assert abs(energy - float(text)) <= 5e-12 * abs(energy), (name, energy, text)


def test_step_well_geometry_and_asymmetry():
    well = StepWell()
    assert well.domain == (-3.0, 3.0) and well.breakpoints == (-1.0, 0.0, 1.0)
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_array_equal(well.potential(x), [30.0, 0.0, 8.0, 15.0])
    # No parity: the ground state leans into the deeper (left) half of the floor.
    psi = well.reference(1).wavefunctions(np.array([-0.5, 0.5]))[0]
    assert psi[0] > 1.2 * psi[1]


def test_kronig_penney_chain_layout_and_its_close_levels():
    chain = KronigPenney()
    assert chain.domain == (0.0, 7.0)
    assert chain.breakpoints == (1.0, 1.5, 2.5, 3.0, 4.0, 4.5, 5.5, 6.0)
    np.testing.assert_array_equal(chain.potential(np.array([0.5, 1.25, 2.0, 6.5])), [0.0, 30.0, 0.0, 0.0])
    energies = chain.reference(6).energies
    # First band of n_wells = 5 states, then a wide gap; states 3 and 4 nearly degenerate.
    assert energies[5] - energies[4] > 5 * (energies[4] - energies[0])
    assert 0 < (energies[4] - energies[3]) / energies[3] < 1e-3


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: StepWell(half_width=3.0), "half_width must be < box_half_width=3.0"),
        (lambda: StepWell(step=float("nan")), "step must be a finite"),
        (lambda: StepWell(V_left="high"), "V_left must be a finite"),
        (lambda: KronigPenney(n_wells=1), "n_wells must be >= 2"),
        (lambda: KronigPenney(barrier_width=0.0), "barrier_width must be > 0"),
        (lambda: KronigPenney(V0=-1.0), "V0 must be >= 0"),
    ],
)
def test_bad_parameters_name_themselves(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("widths", [{"well_width": 1e300}, {"barrier_width": 1e300}, {"well_width": 1e-20}])
def test_a_chain_whose_pieces_vanish_in_floating_point_is_refused_naming_the_widths(widths):
    with pytest.raises(ValueError, match=r"well_width=.* and barrier_width=.* cannot be told apart"):
        KronigPenney(**widths)
