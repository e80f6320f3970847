# Copyright (c) mmreid_video contributors. All rights reserved.
"""--cfg-options accept dict(...) values with literal arguments, not code."""
import argparse
import os

import pytest

from mmreid_video.utils import CfgOptionsAction, parse_cfg_options


def _parse(*options):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def test_docs_tensorboard_line():
    # The line of docs/train_test.md, as the shell passes it.
    assert _parse("visualizer.vis_backends=[dict(type='LocalVisBackend'),"
                  "dict(type='TensorboardVisBackend')]") == {
                      'visualizer.vis_backends': [{
                          'type': 'LocalVisBackend'
                      }, {
                          'type':
                          'TensorboardVisBackend'
                      }]
                  }


def test_nested_and_plain_values():
    assert _parse("a=dict(type='X',cfg=dict(k=1),s=(1,2))", 'b=3', 'c=[1,2]',
                  'd=dictionary') == {
                      'a': {
                          'type': 'X',
                          'cfg': {
                              'k': 1
                          },
                          's': (1, 2)
                      },
                      'b': 3,
                      'c': [1, 2],
                      'd': 'dictionary'
                  }


@pytest.mark.parametrize('value', [
    "dict(type=__import__('os').getcwd())", 'dict(**x)', "dict('a')",
    'dict(type=X'
])
def test_code_is_refused(value, capsys):
    with pytest.raises(SystemExit):
        _parse(f'a={value}')
    assert '--cfg-options' in capsys.readouterr().err


def test_parse_cfg_options_as_the_tools_do():
    """For a tool that passes options on as strings and merges them too."""
    assert parse_cfg_options(
        ['a.b=1', "c=[dict(type='X')]", 'd=True', 'e=x,y']) == {
            'a.b': 1,
            'c': [{
                'type': 'X'
            }],
            'd': True,
            'e': ['x', 'y']
        }
    assert parse_cfg_options([]) == {}


def test_parse_after_argparse_as_the_action(capsys):
    """Tools parse raw items first (fast --help), then convert them."""
    from mmreid_video.utils import finish_tool_args, parse_cfg_options
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action='extend')
    parser.add_argument('--local-rank', type=int, default=3)
    args = parser.parse_args(
        ['--cfg-options', 'a=1', "b=[dict(type='X')]", '--cfg-options', 'a=2'])
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv('LOCAL_RANK', raising=False)
        finish_tool_args(parser, args)
        assert os.environ['LOCAL_RANK'] == '3'
    # A repeated option adds its items; the later value wins.
    assert args.cfg_options == dict(a=2, b=[dict(type='X')])
    assert parse_cfg_options(None, parser) is None
    with pytest.raises(SystemExit):
        parse_cfg_options(['max_epochs'], parser)
    assert "--cfg-options 'max_epochs': expected KEY=VALUE" in \
        capsys.readouterr().err


def test_values_keep_their_spaces():
    # MMEngine's parser turns "/data/my runs" into "/data/myruns".
    assert _parse('a=/data/my runs/mars', "b=['x y', 'z']", 'c=1, 2',
                  "d=' padded '", 'e=[a, b]', 'f=(1,2)', 'g=1e-3x') == {
                      'a': '/data/my runs/mars',
                      'b': ['x y', 'z'],
                      'c': [1, 2],
                      'd': 'padded',
                      'e': ['a', 'b'],
                      'f': (1, 2),
                      'g': '1e-3x'
                  }


def test_config_text_is_read_without_running_it():
    from mmengine.config import Config

    from mmreid_video.utils.cfg_options import parse_config_text
    cfg = Config(dict(model=dict(type='X', s=(1, 2)), lr=1e-3, names=['a']))
    assert parse_config_text(cfg.pretty_text) == {
        'lr': 1e-3,
        'model': {
            's': (1, 2),
            'type': 'X'
        },
        'names': ['a']
    }
    for text in ('import os', "x = __import__('os')", 'x, y = 1, 2'):
        with pytest.raises(ValueError):
            parse_config_text(text)
