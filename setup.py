# Copyright (c) mmreid_video contributors. All rights reserved.
"""Install mmreid_video.

``mmcv`` is not in ``install_requires``: the CPU wheel ``mmcv-lite`` and the
full ``mmcv`` both provide the module, and the package checks the installed
version at import (see ``requirements/mminstall.txt``).
"""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    """Read ``__version__`` from mmreid_video/version.py."""
    scope: dict = {}
    with open(osp.join(HERE, 'mmreid_video', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


setup(
    name='mmreid_video',
    version=get_version(),
    description='OpenMMLab-style toolbox for video-based person '
    're-identification (DenseIL)',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    keywords='person re-identification, video, computer vision',
    packages=find_packages(
        exclude=('configs', 'tools', 'tests', 'demo', 'projects', 'docs')),
    include_package_data=True,
    python_requires='>=3.8',
    license='Apache License 2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    install_requires=parse_requirements('runtime'),
    extras_require={
        'tests': parse_requirements('tests'),
        'optional': parse_requirements('optional'),
        'mim': parse_requirements('mminstall'),
    },
    zip_safe=False)
