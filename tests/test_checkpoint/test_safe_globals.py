import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmreid_video  # noqa: F401  (setup_checkpoint_io: safe globals)


def _mmengine_like_checkpoint() -> dict:
    hub = MessageHub.get_instance('test_checkpoint_hub')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/lr', np.float64(3.5e-4))
    hub.update_info('epoch', 3)
    return dict(
        meta=dict(epoch=3, iter=30, seed=0, cfg='model = dict()'),
        state_dict={'w': torch.ones(2, 2)},
        message_hub=hub.state_dict(),
        optimizer=torch.optim.Adam([torch.nn.Parameter(torch.ones(1))
                                    ]).state_dict(),
        extra=dict(array=np.arange(3), scalar=np.float32(1.5)))


def test_mmengine_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    # torch >= 2.6 defaults to weights_only=True, as mmengine's torch.load.
    ckpt = torch.load(path, weights_only=True)
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.current() == 0.5
    assert buffer.mean() == 0.5
    np.testing.assert_array_equal(ckpt['extra']['array'], np.arange(3))
    assert ckpt['extra']['scalar'] == np.float32(1.5)
    assert ckpt['meta']['epoch'] == 3


class _Payload:

    def __reduce__(self):
        return (print, ('pwned', ))


def test_arbitrary_globals_are_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Payload()}, path)
    with pytest.raises(pickle.UnpicklingError, match='print'):
        torch.load(path, weights_only=True)


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):

    class _GetattrPayload:

        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    path = tmp_path / 'getattr.pth'
    torch.save({'payload': _GetattrPayload()}, path)
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        torch.load(path, weights_only=True)
