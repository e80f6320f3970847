# Copyright (c) mmreid_video contributors. All rights reserved.
"""--cfg-options accept dict(...) values with literal arguments, not code."""
import argparse

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
                          'type': 'TensorboardVisBackend'
                      }]
                  }


def test_nested_and_plain_values():
    assert _parse("a=dict(type='X',cfg=dict(k=1),s=(1,2))", 'b=3',
                  'c=[1,2]', 'd=dictionary') == {
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
    assert parse_cfg_options([
        'a.b=1', "c=[dict(type='X')]", 'd=True', 'e=x,y'
    ]) == {
        'a.b': 1,
        'c': [{
            'type': 'X'
        }],
        'd': True,
        'e': ['x', 'y']
    }
    assert parse_cfg_options([]) == {}
