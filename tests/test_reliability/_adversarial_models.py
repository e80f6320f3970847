# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of models, configs, checkpoints, samplers and
transforms."""
import numpy as np
import torch
from _adversarial_base import build_mars, err, mars, ok
from mmengine.config import Config
from tool_runner import DEMO_CONFIG

TINY = dict(
    backbone=dict(stem_channels=8, base_channels=8),
    head=dict(in_channels=64, num_classes=8))


def tiny_cfg(**model) -> Config:
    """The demo config, shrunk, with ``model`` merged in."""
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(dict(model=TINY))
    cfg.merge_from_dict(dict(model=model))
    return cfg


def tiny_model(**model):
    from mmreid_video.apis import init_model
    return init_model(tiny_cfg(**model))


def save(tmp, obj, name='ckpt.pth'):
    path = tmp / name
    torch.save(obj, path)
    return path


# ---- models and their config keys ------------------------------------------
for _key, _bad, _frag in (
    ('head', dict(num_classes=0), 'num_classes'),
    ('head', dict(num_classes=-4), 'num_classes'),
    ('head', dict(in_channels=0), 'in_channels'),
    ('head', dict(loss_ce=dict(type='NoSuchLoss')), 'NoSuchLoss'),
    ('head', dict(type='NoSuchHead'), 'NoSuchHead'),
    ('neck', dict(type='NoSuchNeck'), 'NoSuchNeck'),
    ('backbone', dict(depth=19), '19'),
    ('data_preprocessor', dict(std=[1, 0, 1]), 'std'),
    ('data_preprocessor', dict(mean=[1, 2]), 'mean'),
    ('head', dict(loss_triplet=dict(type='TripletLoss', margin=-1)), 'margin'),
):

    @err('model', f'{_key}={_bad}', _frag)
    def _(tmp, key=_key, bad=_bad):
        tiny_model(**{key: bad})


@err('model', 'clips_per_forward=0', 'clips_per_forward')
def _(tmp):
    tiny_model(clips_per_forward=0)


@err('model', 'clips_per_forward="8"', 'clips_per_forward')
def _(tmp):
    tiny_model(clips_per_forward='8')


@err('model', 'unknown model type', 'NoSuchReID')
def _(tmp):
    tiny_model(type='NoSuchReID')


@err('model', 'head in_channels != backbone width', '64', '32')
def _(tmp):
    model = tiny_model(head=dict(in_channels=32))
    model(torch.rand(1, 2, 3, 64, 32), mode='tensor')


@err('model', 'input (B, 3, H, W) without T', '(B, T, 3, H, W)')
def _(tmp):
    tiny_model()(torch.rand(1, 3, 64, 32), mode='tensor')


@err('model', 'input with 1 channel', '(B, T, 3, H, W)')
def _(tmp):
    tiny_model()(torch.rand(1, 2, 1, 64, 32), mode='tensor')


@err('model', 'bad forward mode', 'mode')
def _(tmp):
    tiny_model()(torch.rand(1, 2, 3, 64, 32), mode='train')


@err('model', "mode='loss' without data_samples", 'data_samples')
def _(tmp):
    tiny_model()(torch.rand(1, 2, 3, 64, 32), mode='loss')


@err('model', 'label >= num_classes in loss', 'num_classes', '8')
def _(tmp):
    from mmpretrain.structures import DataSample
    model = tiny_model()
    model.train()
    samples = [DataSample().set_gt_label(9), DataSample().set_gt_label(0)]
    model(torch.rand(2, 2, 3, 64, 32), samples, mode='loss')


@err('model', 'config without model key', 'model')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(Config(dict(a=1)))


@err('model', 'config path missing', '{tmp}/none.py')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(str(tmp / 'none.py'))


@err('model', 'config of wrong type', 'config')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(42)


@err('model', 'config with syntax error', 'bad.py')
def _(tmp):
    from mmreid_video.apis import init_model
    (tmp / 'bad.py').write_text('model = dict(\n')
    init_model(str(tmp / 'bad.py'))


@err('model', 'DenseIL encoder_checkpoint without two_stage',
     'encoder_checkpoint')
def _(tmp):
    from mmengine.registry import init_default_scope

    from mmreid_video.registry import MODELS
    init_default_scope('mmreid_video')
    MODELS.build(
        dict(
            type='DenseIL',
            backbone=dict(type='mmpretrain.ResNet', depth=18),
            neck=dict(type='TemporalAvgPool'),
            head=dict(type='BNNeckHead', in_channels=512, num_classes=4),
            encoder_head=dict(
                type='BNNeckHead', in_channels=512, num_classes=4),
            two_stage=False,
            encoder_checkpoint=str(tmp / 'x.pth')))


# ---- checkpoints -----------------------------------------------------------
@err('checkpoint', 'missing file', '{tmp}/none.pth')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(tiny_cfg(), str(tmp / 'none.pth'))


@err('checkpoint', 'empty file', '{tmp}/ckpt.pth')
def _(tmp):
    from mmreid_video.apis import init_model
    (tmp / 'ckpt.pth').write_bytes(b'')
    init_model(tiny_cfg(), str(tmp / 'ckpt.pth'))


@err('checkpoint', 'truncated file', '{tmp}/ckpt.pth')
def _(tmp):
    from mmreid_video.apis import init_model
    model = tiny_model()
    path = save(tmp, dict(state_dict=model.state_dict()))
    path.write_bytes(path.read_bytes()[:5000])
    init_model(tiny_cfg(), str(path))


@err('checkpoint', 'text file', '{tmp}/ckpt.pth')
def _(tmp):
    from mmreid_video.apis import init_model
    (tmp / 'ckpt.pth').write_text('not a checkpoint\n' * 20)
    init_model(tiny_cfg(), str(tmp / 'ckpt.pth'))


@err('checkpoint', 'bare tensor', '{tmp}/ckpt.pth', 'Tensor')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(tiny_cfg(), str(save(tmp, torch.ones(3))))


@err('checkpoint', 'a list', '{tmp}/ckpt.pth', 'list')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(tiny_cfg(), str(save(tmp, [1, 2])))


@err('checkpoint', 'dict without weights', '{tmp}/ckpt.pth')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(tiny_cfg(), str(save(tmp, dict(meta=dict(epoch=1)))))


@err('checkpoint', 'state_dict not a dict', '{tmp}/ckpt.pth', 'state_dict')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(tiny_cfg(), str(save(tmp, dict(state_dict=[1, 2]))))


@err('checkpoint', 'state_dict with a non-tensor value', '{tmp}/ckpt.pth',
     'head.bnneck.weight')
def _(tmp):
    from mmreid_video.apis import init_model
    state = tiny_model().state_dict()
    state['head.bnneck.weight'] = 'x'
    init_model(tiny_cfg(), str(save(tmp, dict(state_dict=state))))


@err('checkpoint', 'another num_classes', '{tmp}/ckpt.pth',
     'head.classifier.weight')
def _(tmp):
    from mmreid_video.apis import init_model
    other = tiny_model(head=dict(num_classes=5))
    init_model(tiny_cfg(), str(save(tmp, dict(state_dict=other.state_dict()))))


@err('checkpoint', 'another backbone width', '{tmp}/ckpt.pth', 'shape')
def _(tmp):
    from mmreid_video.apis import init_model
    other = tiny_model(
        backbone=dict(stem_channels=16, base_channels=16),
        head=dict(in_channels=128))
    init_model(tiny_cfg(), str(save(tmp, dict(state_dict=other.state_dict()))))


@ok('checkpoint', 'DDP "module." prefix stripped', lambda same: same is True)
def _(tmp):
    from mmreid_video.apis import init_model
    model = tiny_model()
    state = {f'module.{k}': v for k, v in model.state_dict().items()}
    loaded = init_model(tiny_cfg(), str(save(tmp, dict(state_dict=state))))
    return all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                          loaded.state_dict().values()))


@err('checkpoint', 'keys with another prefix', '{tmp}/ckpt.pth', 'missing')
def _(tmp):
    from mmreid_video.apis import init_model
    state = {f'net.{k}': v for k, v in tiny_model().state_dict().items()}
    init_model(tiny_cfg(), str(save(tmp, dict(state_dict=state))))


@err('checkpoint', 'half the keys', '{tmp}/ckpt.pth', 'missing')
def _(tmp):
    from mmreid_video.apis import init_model
    state = dict(list(tiny_model().state_dict().items())[::2])
    init_model(tiny_cfg(), str(save(tmp, dict(state_dict=state))))


@ok('checkpoint', 'partial load when allowed', lambda m: m is not None)
def _(tmp):
    from mmreid_video.apis import init_model
    state = dict(list(tiny_model().state_dict().items())[::2])
    cfg = tiny_cfg()
    cfg.allow_partial_load = True
    return init_model(cfg, str(save(tmp, dict(state_dict=state))))


@ok('checkpoint', 'plain state dict loads exactly', lambda same: same is True)
def _(tmp):
    from mmreid_video.apis import init_model
    model = tiny_model()
    loaded = init_model(tiny_cfg(), str(save(tmp, model.state_dict())))
    return all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                          loaded.state_dict().values()))


@err('checkpoint', 'pickled object refused (weights only)', '{tmp}/ckpt.pth')
def _(tmp):
    import argparse

    from mmreid_video.apis import init_model
    state = dict(
        state_dict=tiny_model().state_dict(), evil=argparse.Namespace(a=1))
    init_model(tiny_cfg(), str(save(tmp, state)))


@err('checkpoint', 'folder instead of file', '{tmp}')
def _(tmp):
    from mmreid_video.apis import init_model
    init_model(tiny_cfg(), str(tmp))


@err('resume', 'last_checkpoint to a missing file', '{tmp}')
def _(tmp):
    from mmreid_video.checkpoint import resolve_resume_checkpoint
    (tmp / 'last_checkpoint').write_text(str(tmp / 'epoch_3.pth'))
    resolve_resume_checkpoint(str(tmp), 'auto')


@err('resume', 'weights-only checkpoint', 'optimizer')
def _(tmp):
    from mmreid_video.checkpoint import check_resumable
    check_resumable(dict(state_dict={}, meta={}), str(tmp / 'best.pth'))


# ---- samplers --------------------------------------------------------------
def _train_set(tmp):
    return build_mars(mars(tmp))


for _kw, _frag in ((dict(num_ids=0, num_instances=2), 'num_ids'),
                   (dict(num_ids=2, num_instances=0),
                    'num_instances'), (dict(num_ids=2.0,
                                            num_instances=2), 'num_ids'),
                   (dict(num_ids=2, num_instances='2'),
                    'num_instances'), (dict(num_ids=9,
                                            num_instances=2), 'only 8'),
                   (dict(num_ids=2, num_instances=2, rank=2,
                         world_size=2), 'rank')):

    @err('sampler', f'IdentitySampler({_kw})', _frag)
    def _(tmp, kw=_kw):
        from mmreid_video.datasets import IdentitySampler
        IdentitySampler(_train_set(tmp), seed=0, **kw)


@err('sampler', 'batch not P x K', 'batch_size=7', '2 x 2 = 4')
def _(tmp):
    from mmreid_video.datasets import IdentityBatchSampler, IdentitySampler
    IdentityBatchSampler(
        IdentitySampler(_train_set(tmp), 2, 2, seed=0), batch_size=7)


@err('sampler', 'batch sampler over another sampler', 'IdentitySampler')
def _(tmp):
    from mmengine.dataset import DefaultSampler

    from mmreid_video.datasets import IdentityBatchSampler
    IdentityBatchSampler(DefaultSampler(_train_set(tmp)), batch_size=4)


@err('sampler', 'runner loader: sampler without batch sampler, odd batch',
     'batch_size=3', '2 x 2 = 4')
def _(tmp):
    from types import SimpleNamespace

    from mmengine.runner import Runner

    from mmreid_video.engine import CheckIdentityBatchHook
    root = mars(tmp)
    loader = Runner.build_dataloader(
        dict(
            batch_size=3,
            num_workers=0,
            sampler=dict(
                type='IdentitySampler', num_ids=2, num_instances=2, seed=0),
            dataset=dict(type='MARS', data_root=str(root))))
    CheckIdentityBatchHook().before_train(
        SimpleNamespace(train_dataloader=loader))


@ok('sampler', 'every batch is P x K', lambda ok_: ok_ is True)
def _(tmp):
    from mmreid_video.datasets import IdentityBatchSampler, IdentitySampler
    ds = _train_set(tmp)
    batches = list(IdentityBatchSampler(IdentitySampler(ds, 2, 2, seed=0), 4))
    pids = [[ds.get_data_info(i)['pid'] for i in b] for b in batches]
    return bool(batches) and all(
        len(set(p)) == 2 and p[0] == p[1] and p[2] == p[3] for p in pids)


# ---- transforms ------------------------------------------------------------
def _transform(cfg):
    from mmengine.registry import init_default_scope

    from mmreid_video.registry import TRANSFORMS
    init_default_scope('mmreid_video')
    return TRANSFORMS.build(cfg)


for _cfg, _frag in (
    (dict(type='EvenlySample', clip_len=0), 'clip_len'),
    (dict(type='RestrictedRandomSample', clip_len=2.5), 'clip_len'),
    (dict(type='AllFramesSample', clip_len='4'), 'clip_len'),
    (dict(type='LoadFrames', scale=(32, )), 'scale'),
    (dict(type='LoadFrames', scale=(0, 64)), 'scale'),
    (dict(type='LoadFrames', interpolation='cubic2'), 'interpolation'),
    (dict(type='FrameRandomFlip', prob=1.5), 'prob'),
    (dict(type='SequenceRandomErasing', prob=-0.1), 'prob'),
    (dict(type='ClipResize', scale=(-1, 4)), 'scale'),
    (dict(type='ClipPadCrop', padding=-3), 'padding'),
):

    @err('transform', f'{_cfg}', _frag)
    def _(tmp, cfg=_cfg):
        _transform(cfg)


@err('transform', 'sample on a tracklet with no frames', "'t0'")
def _(tmp):
    _transform(dict(type='EvenlySample', clip_len=2))(
        dict(frame_paths=[], tracklet_id='t0'))


@err('transform', 'load without frame_inds', 'frame_inds')
def _(tmp):
    _transform(dict(type='LoadFrames'))(dict(frame_paths=['a.jpg']))


@err('transform', 'frame_inds out of range', 'frame_inds', '5')
def _(tmp):
    (tmp / 'a.jpg').write_bytes(b'')
    _transform(dict(type='LoadFrames'))(
        dict(frame_paths=[str(tmp / 'a.jpg')], frame_inds=np.array([0, 5])))


@err('transform', 'frame_inds negative', 'frame_inds', '-1')
def _(tmp):
    import cv2
    cv2.imwrite(str(tmp / 'a.jpg'), np.zeros((8, 4, 3), np.uint8))
    _transform(dict(type='LoadFrames'))(
        dict(frame_paths=[str(tmp / 'a.jpg')], frame_inds=np.array([-1])))


@err('transform', 'frame_inds floats', 'frame_inds')
def _(tmp):
    import cv2
    cv2.imwrite(str(tmp / 'a.jpg'), np.zeros((8, 4, 3), np.uint8))
    _transform(dict(type='LoadFrames'))(
        dict(frame_paths=[str(tmp / 'a.jpg')], frame_inds=np.array([0.5])))


@err('transform', 'frames of different sizes without scale', 'b.jpg')
def _(tmp):
    import cv2
    cv2.imwrite(str(tmp / 'a.jpg'), np.zeros((8, 4, 3), np.uint8))
    cv2.imwrite(str(tmp / 'b.jpg'), np.zeros((10, 4, 3), np.uint8))
    _transform(dict(type='LoadFrames'))(
        dict(
            frame_paths=[str(tmp / 'a.jpg'),
                         str(tmp / 'b.jpg')],
            frame_inds=np.array([0, 1])))


@err('transform', 'corrupt PNG', 'a.png')
def _(tmp):
    (tmp / 'a.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 30)
    _transform(dict(type='LoadFrames'))(
        dict(frame_paths=[str(tmp / 'a.png')], frame_inds=np.array([0])))


@err('transform', 'frame path is a folder', '{tmp}')
def _(tmp):
    _transform(dict(type='LoadFrames'))(
        dict(frame_paths=[str(tmp)], frame_inds=np.array([0])))


@err('transform', 'pack with label but no pid', 'pid')
def _(tmp):
    _transform(dict(type='PackReIDInputs'))(
        dict(imgs=np.zeros((2, 8, 4, 3), np.uint8)))


@err('transform', 'pack without imgs', 'imgs')
def _(tmp):
    _transform(dict(type='PackReIDInputs'))(dict(pid=1))
