# Copyright (c) mmreid_video contributors. All rights reserved.
"""Print the adversarial case table: ``python
tests/test_reliability/adversarial_cases.py`` (run from the repository root
with ``PYTHONPATH=$PWD``)."""
import sys
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).parent),
    str(Path(__file__).parents[1]),
    str(Path(__file__).parents[1] / 'test_tools')
]

import _adversarial_datasets  # noqa: E402,F401 -- registers its cases
import _adversarial_eval  # noqa: E402,F401
import _adversarial_index  # noqa: E402,F401
import _adversarial_mars  # noqa: E402,F401
import _adversarial_models  # noqa: E402,F401
import _adversarial_odd_data  # noqa: E402,F401
import _adversarial_provenance  # noqa: E402,F401
import _adversarial_runs  # noqa: E402,F401
import _adversarial_tools  # noqa: E402,F401
from _adversarial_base import CASES, classify  # noqa: E402


def main() -> None:
    from mmengine.registry import init_default_scope
    init_default_scope('mmreid_video')
    counts = {}
    rows = []
    only = sys.argv[1:]
    for case in CASES:
        if only and case.surface not in only:
            continue
        cls, msg = classify(case)
        counts[cls] = counts.get(cls, 0) + 1
        msg = msg[:160].replace('|', '/').replace('\n', ' ')
        rows.append(f'| {case.surface} | {case.name} | {cls} | {msg} |')
    print('| surface | case | class | message (start) |')
    print('|---|---|---|---|')
    print('\n'.join(rows))
    print(f'\n{sum(counts.values())} cases: ' +
          ', '.join(f'{k} {v}' for k, v in sorted(counts.items())))


if __name__ == '__main__':
    main()
