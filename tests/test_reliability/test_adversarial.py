# Copyright (c) mmreid_video contributors. All rights reserved.
"""Every case of the adversarial table gives a clear error naming the
culprit or a correct result (issue 17): none unclear, silent, lost or hung.

The table lives in ``_adversarial_*.py``; ``python
tests/test_reliability/adversarial_cases.py`` prints it with each class.
"""
import _adversarial_datasets  # noqa: F401 -- each module registers cases
import _adversarial_eval  # noqa: F401
import _adversarial_index  # noqa: F401
import _adversarial_mars  # noqa: F401
import _adversarial_models  # noqa: F401
import _adversarial_odd_data  # noqa: F401
import _adversarial_provenance  # noqa: F401
import _adversarial_runs  # noqa: F401
import _adversarial_tools  # noqa: F401
import pytest
from _adversarial_base import CASES, classify
from mmengine.registry import init_default_scope


def test_case_names_are_unique():
    names = [(c.surface, c.name) for c in CASES]
    assert len(names) == len(set(names)) >= 150


@pytest.mark.parametrize('case', [
    pytest.param(
        c,
        id=f'{c.surface}: {c.name}',
        marks=pytest.mark.slow if c.slow else ()) for c in CASES
])
def test_case(case):
    init_default_scope('mmreid_video')
    outcome, message = classify(case)
    assert outcome in ('clear', 'handled'), f'{outcome}: {message}'
