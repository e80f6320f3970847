# Copyright (c) mmreid_video contributors. All rights reserved.
"""``--cfg-options`` that also take ``dict(...)`` values and keep spaces.

MMEngine's :class:`~mmengine.config.DictAction` parses numbers, booleans,
strings and lists/tuples of them; ``dict(type='X')`` stays the string
``"dict(type='X')"`` (and ``dict(a=1,b=2)`` recurses without end), so e.g.
``visualizer.vis_backends=[dict(type='LocalVisBackend'),dict(type=
'TensorboardVisBackend')]`` fails when the visualizer is built. It also
deletes every space of a value: ``data_root=/data/my runs`` becomes
``/data/myruns``, another folder (where a synthetic dataset is then
generated afresh). :class:`CfgOptionsAction` parses a value that contains
``dict(`` or is a quoted Python list/tuple as a Python expression made of
literals, lists, tuples and ``dict(key=value)`` calls (never running code);
other values as ``DictAction`` does, but with their inner spaces kept.
"""
import argparse
import ast
import copy
from typing import Any, Dict, Optional, Sequence

from mmengine.config import DictAction


def _literal(node: ast.AST) -> Any:
    """Evaluate literals, lists, tuples and ``dict(k=v, ...)`` calls."""
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id == 'dict'
                and not node.args and all(k.arg is not None
                                          for k in node.keywords)):
            raise ValueError(f'{ast.unparse(node)!r} is not dict(key=value, '
                             '...)')
        return {k.arg: _literal(k.value) for k in node.keywords}
    try:
        return ast.literal_eval(node)
    except ValueError as err:
        raise ValueError(f'{ast.unparse(node)!r} is not a literal') from err


def parse_dict_value(text: str) -> Any:
    """Parse a ``--cfg-options`` value that contains ``dict(...)``.

    Args:
        text (str): E.g. ``"[dict(type='A'),dict(type='B',k=1)]"``.

    Returns:
        Any: The value, with dicts, lists and tuples as written.

    Raises:
        ValueError: The text is not made of literals, lists, tuples and
            ``dict(key=value)`` calls.
    """
    try:
        tree = ast.parse(text.strip(), mode='eval')
    except SyntaxError as err:
        raise ValueError(f'cannot parse {text!r}: {err.msg}') from err
    return _literal(tree.body)


def parse_config_text(text: str) -> Dict[str, Any]:
    """Read config text of ``key = value`` lines (as ``Config.pretty_text``
    writes it, e.g. into a checkpoint's ``meta['cfg']``) without running it.

    Args:
        text (str): The text.

    Returns:
        dict: Each assigned name and its value.

    Raises:
        ValueError: A statement is not ``name = <literal, list, tuple or
            dict(key=value) call>``.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise ValueError(f'cannot parse the config text: {err.msg}') from err
    values = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f'line {node.lineno} of the config text is not '
                             '`name = value`')
        values[node.targets[0].id] = _literal(node.value)
    return values


def _is_literal(text: str) -> bool:
    """Whether ``text`` parses as a safe literal expression."""
    try:
        parse_dict_value(text)
    except ValueError:
        return False
    return True


class CfgOptionsAction(DictAction):
    """:class:`~mmengine.config.DictAction` that also parses ``dict(...)``
    and keeps the spaces inside values.

    Examples:
        >>> import argparse
        >>> parser = argparse.ArgumentParser()
        >>> _ = parser.add_argument(
        ...     '--cfg-options', nargs='+', action=CfgOptionsAction)
        >>> parser.parse_args(['--cfg-options',
        ...     "a=[dict(type='X',k=1),dict(type='Y')]"]).cfg_options
        {'a': [{'type': 'X', 'k': 1}, {'type': 'Y'}]}
        >>> parser.parse_args(['--cfg-options',
        ...     'root=/data/my runs']).cfg_options
        {'root': '/data/my runs'}
    """

    @classmethod
    def parse_value(cls, value: str) -> Any:
        """Parse one ``KEY=VALUE`` value (see the class docstring).

        Args:
            value (str): The text after the first ``=``.

        Returns:
            Any: A literal, a list/tuple of them, or the string itself.

        Raises:
            ValueError: A ``dict(...)`` value is not made of literals.
        """
        text = value.strip()
        bracketed = text.startswith(('[', '('))
        if 'dict(' in text or (bracketed and _is_literal(text)):
            return parse_dict_value(text)
        if any(c in text for c in '[]()'):
            # Unquoted lists such as [a,(1,b)]: MMEngine's parser, which
            # drops spaces.
            return cls._parse_iterable(text)
        items = [
            cls._parse_int_float_bool(item.strip().strip('\'"'))
            for item in text.strip('\'"').split(',')
        ]
        return items[0] if len(items) == 1 else items

    def __call__(self, parser, namespace, values, option_string=None):
        """Parse ``KEY=VALUE`` items (see :meth:`parse_value`)."""
        options = copy.copy(getattr(namespace, self.dest, None) or {})
        for item in values or []:
            if '=' not in item:
                parser.error(f'{option_string} {item!r}: expected KEY=VALUE, '
                             'e.g. train_cfg.max_epochs=10')
            key, value = item.split('=', maxsplit=1)
            try:
                options[key] = self.parse_value(value)
            except ValueError as err:
                parser.error(f'{option_string} {key}: {err}')
        setattr(namespace, self.dest, options)


def parse_cfg_options(values: Optional[Sequence[str]],
                      parser: Optional[argparse.ArgumentParser] = None,
                      option: str = '--cfg-options') -> Optional[dict]:
    """Parse raw ``KEY=VALUE`` items as :class:`CfgOptionsAction` does.

    For tools that declare ``--cfg-options`` with ``nargs='+',
    action='extend'`` (a repeated option adds its items, later ones win, as
    with the action) and parse their arguments before importing the package
    (so that ``--help`` answers at once), and for tools that pass the same
    options on to other tools as strings and also merge them into their own
    copy of the config.

    Args:
        values (Sequence[str], optional): The items, e.g.
            ``['a.b=1', "c=dict(type='X')"]``; None when not given.
        parser (argparse.ArgumentParser, optional): The tool's parser, whose
            ``error`` reports a malformed item. Defaults to None (a parser
            named after ``option``).
        option (str): The option's name, for errors. Defaults to
            ``'--cfg-options'``.

    Returns:
        dict | None: Dotted keys to values, for ``Config.merge_from_dict``;
        None when ``values`` is None.
    """
    if values is None:
        return None
    parser = parser or argparse.ArgumentParser(prog=option)
    namespace = argparse.Namespace(options=None)
    CfgOptionsAction([option], 'options')(parser, namespace, list(values),
                                          option)
    return namespace.options or {}
