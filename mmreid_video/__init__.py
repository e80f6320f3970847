import mmcv
import mmengine
import mmpretrain
from mmengine.utils import digit_version

from .checkpoint import setup_checkpoint_io
from .version import __version__, version_info

# Both ``mmcv-lite`` (CPU, no compiled ops) and the full ``mmcv`` provide the
# ``mmcv`` module, so the range is checked here instead of in setup.py.
MMCV_MIN, MMCV_MAX = '2.0.0', '2.2.0'
MMENGINE_MIN, MMENGINE_MAX = '0.10.0', '1.0.0'
MMPRETRAIN_MIN, MMPRETRAIN_MAX = '1.2.0', '1.3.0'


def _check_version(name: str, version: str, low: str, high: str,
                   hint: str) -> None:
    if not digit_version(low) <= digit_version(version) < digit_version(high):
        raise ImportError(
            f'{name}=={version} is installed but mmreid_video needs '
            f'{name}>={low},<{high}. {hint}')


_check_version(
    'mmcv', mmcv.__version__, MMCV_MIN, MMCV_MAX,
    'Install it with `pip install "mmcv-lite>=2.0.0,<2.2.0"` (CPU) or '
    '`mim install "mmcv>=2.0.0,<2.2.0"` (GPU, compiled ops); '
    'see requirements/mminstall.txt.')
_check_version('mmengine', mmengine.__version__, MMENGINE_MIN, MMENGINE_MAX,
               'Install it with `pip install "mmengine>=0.10.0,<1.0.0"`.')
_check_version('mmpretrain', mmpretrain.__version__, MMPRETRAIN_MIN,
               MMPRETRAIN_MAX,
               'Install it with `pip install "mmpretrain>=1.2.0,<1.3.0"`.')

# Process-wide checkpoint settings (safe globals, 'atomic_local' backend,
# weights-only local loader): see mmreid_video/checkpoint/setup.py.
setup_checkpoint_io()

__all__ = ['__version__', 'version_info']
