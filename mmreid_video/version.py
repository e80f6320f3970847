# Copyright (c) mmreid_video contributors. All rights reserved.
"""The package version."""
__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse a version string like ``'0.1.0rc1'`` into a tuple of ints/strs.

    Args:
        version_str (str): The version string.

    Returns:
        tuple: e.g. ``(0, 1, 0, 'rc1')``.
    """
    parts = []
    for part in version_str.split('.'):
        if part.isdigit():
            parts.append(int(part))
        else:
            digits = ''.join(c for c in part if c.isdigit())
            rest = part[len(digits):]
            parts.extend([int(digits), rest] if digits else [rest])
    return tuple(parts)


version_info = parse_version_info(__version__)
