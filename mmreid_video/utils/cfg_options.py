"""``--cfg-options`` that also take ``dict(...)`` values.

MMEngine's :class:`~mmengine.config.DictAction` parses numbers, booleans,
strings and lists/tuples of them; ``dict(type='X')`` stays the string
``"dict(type='X')"``, so e.g. ``visualizer.vis_backends=[dict(type=
'LocalVisBackend'),dict(type='TensorboardVisBackend')]`` fails when the
visualizer is built. :class:`CfgOptionsAction` turns such strings into dicts.
Only literals are evaluated (``ast.literal_eval`` of each keyword value),
never code.
"""
import ast
from typing import Any

from mmengine.config import DictAction


def _literal_dict(text: str) -> dict:
    """``dict(k=<literal>, ...)`` -> dict; ValueError for anything else."""
    try:
        node = ast.parse(text.strip(), mode='eval').body
    except SyntaxError as err:
        raise ValueError(f'cannot parse {text!r}') from err
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == 'dict' and not node.args
            and all(k.arg is not None for k in node.keywords)):
        raise ValueError(
            f'{text!r}: only dict(key=value, ...) with literal values is '
            'supported in --cfg-options')
    values = {}
    for keyword in node.keywords:
        if isinstance(keyword.value, ast.Call):  # a nested dict(...)
            values[keyword.arg] = _literal_dict(ast.unparse(keyword.value))
        else:
            values[keyword.arg] = ast.literal_eval(keyword.value)
    return values


def _convert(value: Any) -> Any:
    """Replace ``dict(...)`` strings, also inside lists and tuples."""
    if isinstance(value, str) and value.strip().startswith('dict('):
        return _literal_dict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_convert(v) for v in value)
    return value


class CfgOptionsAction(DictAction):
    """:class:`~mmengine.config.DictAction` that also parses ``dict(...)``.

    Examples:
        >>> import argparse
        >>> parser = argparse.ArgumentParser()
        >>> _ = parser.add_argument(
        ...     '--cfg-options', nargs='+', action=CfgOptionsAction)
        >>> parser.parse_args(['--cfg-options',
        ...     "a=[dict(type='X',k=1),dict(type='Y')]"]).cfg_options
        {'a': [{'type': 'X', 'k': 1}, {'type': 'Y'}]}
    """

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        options = getattr(namespace, self.dest)
        try:
            converted = {k: _convert(v) for k, v in options.items()}
        except ValueError as err:
            parser.error(f'{option_string}: {err}')
        setattr(namespace, self.dest, converted)
