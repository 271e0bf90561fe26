"""Command-line specs ``NAME[:k=v,...]``: JSON values, lists, quotes and brackets."""

from __future__ import annotations

import pytest

from qbench.cli.specs import UsageError, parse_spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("fd", ("fd", {})),
        ("fd:n_points=200", ("fd", {"n_points": 200})),
        ("pinn:learning_rate=1e-3,sampling=gauss", ("pinn", {"learning_rate": 1e-3, "sampling": "gauss"})),
        (
            "piecewise_constant:edges=[0,1,2],values=[0,5]",
            ("piecewise_constant", {"edges": [0, 1, 2], "values": [0, 5]}),
        ),
        ("x:flag=true,nested=[[1,2],[3]]", ("x", {"flag": True, "nested": [[1, 2], [3]]})),
        ('x:table={"a": 1, "b": [1, 2]}', ("x", {"table": {"a": 1, "b": [1, 2]}})),
        ('potential:V="x**4",domain=[-6,6]', ("potential", {"V": "x**4", "domain": [-6, 6]})),
        ("potential:V='x**4',domain=[-6,6]", ("potential", {"V": "x**4", "domain": [-6, 6]})),
        (
            'potential:V="where(x>0,1,0)",domain=[-2,2]',
            ("potential", {"V": "where(x>0,1,0)", "domain": [-2, 2]}),
        ),
        (
            "potential:V=where(x>0,1,0),domain=[-2,2]",
            ("potential", {"V": "where(x>0,1,0)", "domain": [-2, 2]}),
        ),
        ('p:V="a,b",w="[",z=\'"\'', ("p", {"V": "a,b", "w": "[", "z": '"'})),
        ('p:V="3"', ("p", {"V": "3"})),  # quoted: a string, never JSON
        (" p : a = 1 ", ("p", {"a": 1})),
    ],
)
def test_specs_split_at_top_level_commas_only(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ('potential:V="x**4,domain=[-6,6]', "unclosed quote"),
        ("potential:domain=[-6,6", "unclosed '['"),
        ("p:V=where(x>0,1,0", "unclosed '('"),
        ("p:a=1)", "unbalanced ')'"),
        ("p:a=(1,2]", "unbalanced ']'"),
        ("p:a", "expected key=value"),
        ("p:=3", "expected key=value"),
    ],
)
def test_bad_specs_are_one_line_usage_errors(spec, fragment):
    with pytest.raises(UsageError) as info:
        parse_spec(spec)
    assert fragment in str(info.value) and "\n" not in str(info.value)
