# Copyright (c) mmreid_video contributors. All rights reserved.
"""Read a config file, naming it in every error."""
import sys
from typing import Optional, Tuple

from mmengine.config import Config

# MMEngine's functions that read one config file (``filename``: the top file
# or one of its ``_base_`` files) and that replace ``{{_base_.x}}``.
_READER = '_file2dict'
_SUBSTITUTION = '_substitute_base_vars'


def _where(tb) -> Tuple[Optional[str], Optional[int], bool]:
    """The innermost config file MMEngine was reading when ``tb`` was
    raised, the line of it that ran (None if not its own code), and whether
    the error came from replacing ``{{_base_.x}}``."""
    filename, line, substituting = None, None, False
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == _READER:
            filename = tb.tb_frame.f_locals.get('filename', filename)
            line, substituting = None, False
        elif code.co_name == _SUBSTITUTION:
            substituting = True
        elif filename is not None and code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return filename, line, substituting


def load_config(path: str) -> Config:
    """``Config.fromfile``, with errors that name the file.

    MMEngine parses the top file once before its own check (to detect lazy
    imports), so a syntax error there says ``<unknown>, line N`` and no path;
    a missing base variable raises a bare ``KeyError: 'x'``
    (``{{_base_.x}}``) or ``AttributeError`` (``_base_.x``) naming neither
    the file nor ``_base_``.

    Args:
        path (str): The config file.

    Returns:
        Config: The config.
    """
    try:
        return Config.fromfile(str(path))
    except SyntaxError as e:
        if str(path) in str(e):
            raise
        raise SyntaxError(f'There are syntax errors in config file {path}: '
                          f'{e}') from None
    except (KeyError, AttributeError) as e:
        filename, line, substituting = _where(sys.exc_info()[2])
        if filename is None or filename in str(e):
            raise
        if substituting:
            raise KeyError(
                f'{filename}: {{{{_base_.{e.args[0]}}}}} names a variable '
                'that none of its _base_ files defines.') from None
        at = f', line {line}' if line else ''
        hint = (' (a `_base_.x` that none of its _base_ files defines?)'
                if 'ConfigDict' in str(e) else '')
        raise type(e)(f'{filename}{at}: {e}{hint}') from None
