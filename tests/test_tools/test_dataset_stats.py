"""tools/analysis_tools/dataset_stats.py on the shipped LS-VID and
PRID-2011 dataset configs, pointed at the fixture trees."""
import importlib.util

import pytest
from tool_runner import REPO

spec = importlib.util.spec_from_file_location(
    'dataset_stats', f'{REPO}/tools/analysis_tools/dataset_stats.py')
stats = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stats)


def run_stats(monkeypatch, capsys, config, root, *opts):
    monkeypatch.setattr('sys.argv', [
        'dataset_stats.py', f'{REPO}/configs/_base_/datasets/{config}',
        '--cfg-options', f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}', *opts
    ])
    stats.main()
    return capsys.readouterr().out


@pytest.mark.parametrize('query_in_gallery', [False, True])
def test_lsvid_stats(lsvid_root, monkeypatch, capsys, query_in_gallery):
    out = run_stats(
        monkeypatch, capsys, 'lsvid.py', lsvid_root,
        f'test_dataloader.dataset.query_in_gallery={query_in_gallery}')
    assert out.startswith('LS-VID (')
    assert '| train | 2 | 4 | 0 | 14 | 4 | 2 | 3.5 | 5 |' in out
    assert '| test | 3 | 6 | 0 | 16 | 5 | 2 | 2.7 | 4 |' in out
    assert '| query | 2 | 2 | 0 | 6 | 2 | 3 | 3.0 | 3 |' in out
    if query_in_gallery:
        assert '| gallery | 3 | 6 | 0 | 16 | 5 | 2 | 2.7 | 4 |' in out
    else:
        assert '| gallery | 3 | 4 | 0 | 10 | 4 | 2 | 2.5 | 4 |' in out


def test_prid2011_stats(prid_root, monkeypatch, capsys):
    out = run_stats(monkeypatch, capsys, 'prid2011.py', prid_root)
    assert out.startswith('PRID-2011 (')
    # Split 0: train persons 1, 3, 5, 7; test persons 2, 4, 6, 8.
    assert '| train | 4 | 8 | 0 | 28 | 2 | 2 | 3.5 | 4 |' in out
    assert '| test | 4 | 8 | 0 | 25 | 2 | 2 | 3.1 | 4 |' in out
    assert '| query | 4 | 4 | 0 | 13 | 1 | 2 | 3.2 | 4 |' in out
    assert '| gallery | 4 | 4 | 0 | 12 | 1 | 3 | 3.0 | 3 |' in out
