# Copyright (c) mmreid_video contributors. All rights reserved.
"""configs/demo/README.md describes every demo with the README's measured
numbers; the offline advice of the docs names the key that downloads."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
DEMOS = sorted((REPO / 'configs' / 'demo').glob('*.py'))
BENCHMARKS = sorted(
    p for folder in ('baseline', 'denseil')
    for p in (REPO / 'configs' / folder).glob('*.py'))


def _zoo_rows() -> dict:
    """Demo config name -> (mAP, R-1, time) from README.md's model zoo."""
    rows = {}
    for line in (REPO / 'README.md').read_text().splitlines():
        link = re.search(r'\(configs/demo/([\w.-]+\.py)\)', line)
        if line.startswith('|') and link:
            cells = [c.strip() for c in line.strip('|').split('|')]
            time = re.search(r'\d+ min \d+ s', cells[7]).group(0)
            rows[link.group(1)] = (cells[2], cells[3], time)
    return rows


def test_demo_readme_matches_the_model_zoo():
    zoo = _zoo_rows()
    assert sorted(zoo) == [p.name for p in DEMOS]
    table = {}
    for line in (REPO / 'configs/demo/README.md').read_text().splitlines():
        name = re.match(r'\| `([\w.-]+\.py)` \|', line)
        if name:
            cells = [c.strip() for c in line.strip('|').split('|')]
            table[name.group(1)] = (cells[3], cells[4],
                                    re.search(r'\d+ min \d+ s',
                                              cells[2]).group(0))
    assert table == zoo


@pytest.mark.parametrize('path', BENCHMARKS, ids=lambda p: p.name)
def test_offline_key_is_the_download(path):
    """docs/train_test.md: `model.backbone.init_cfg` (=None, or
    .checkpoint=<local file>) is what a benchmark config downloads."""
    backbone = Config.fromfile(str(path)).model.backbone
    assert backbone.init_cfg.checkpoint.startswith('https://')


def test_offline_docs_quote_the_error_and_the_keys():
    for page in ('faq.md', 'train_test.md'):
        text = (REPO / 'docs' / page).read_text()
        assert 'urllib.error.URLError: <urlopen error' in text, page
        assert '--cfg-options model.backbone.init_cfg=None' in text, page
        assert 'model.backbone.init_cfg.checkpoint=' in text, page
