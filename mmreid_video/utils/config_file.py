# Copyright (c) mmreid_video contributors. All rights reserved.
"""Read a config file, naming it in every error."""
from mmengine.config import Config


def load_config(path: str) -> Config:
    """``Config.fromfile``, with a syntax error that names the file.

    MMEngine parses the top file once before its own check (to detect lazy
    imports), so a syntax error there says ``<unknown>, line N`` and no path;
    errors in ``_base_`` files already name theirs.

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
