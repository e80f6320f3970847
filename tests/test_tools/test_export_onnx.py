# Copyright (c) mmreid_video contributors. All rights reserved.
import os
import os.path as osp
import tempfile
from unittest import TestCase, skipIf

import pytest
import torch
from fixture_models import tiny_denseil_cfg, tiny_video_reid_cfg
from mmengine.config import Config
from mmengine.runner import save_checkpoint
from tool_runner import load_tool

from mmreid_video.apis import init_model

try:
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401
    HAS_ORT = True
except ImportError:
    HAS_ORT = False
try:
    import onnxscript  # noqa: F401
    HAS_ONNXSCRIPT = True
except ImportError:
    HAS_ONNXSCRIPT = False


def tiny_config():
    """ResNet-18 (random init, no download) on 2-frame 64x32 clips."""
    return Config(
        dict(
            default_scope='mmreid_video',
            model=tiny_video_reid_cfg(),
            test_dataloader=dict(
                dataset=dict(pipeline=[
                    dict(type='AllFramesSample', clip_len=2),
                    dict(type='LoadFrames'),
                    dict(type='ClipResize', scale=(32, 64)),
                    dict(type='PackReIDInputs'),
                ]))))


def tiny_denseil_config():
    """Tiny DenseIL, decoder branch active (two_stage=False)."""
    cfg = tiny_config()
    cfg.model = tiny_denseil_cfg(neck=dict(ffn_ratio=2), two_stage=False)
    return cfg


@skipIf(not HAS_ORT, 'onnx/onnxruntime not installed (optional extras: '
        'pip install onnx onnxruntime)')
class TestExportOnnx(TestCase):

    @pytest.mark.slow
    def test_round_trip(self):
        tool = load_tool('tools/deployment/export_onnx.py')
        cfg = tiny_config()
        with tempfile.TemporaryDirectory() as tmp:
            torch.manual_seed(0)
            model = init_model(cfg)
            # Non-trivial BN statistics, so eval-mode BN is exercised.
            model.head.bn.running_mean.uniform_(-1, 1)
            save_checkpoint(model.state_dict(), osp.join(tmp, 'tiny.pth'))
            cfg.dump(osp.join(tmp, 'tiny.py'))
            out = osp.join(tmp, 'tiny.onnx')
            max_diff = tool.main([
                osp.join(tmp, 'tiny.py'),
                osp.join(tmp, 'tiny.pth'), '--out', out, '--verify-batch', '3'
            ])
            self.assertTrue(osp.isfile(out))
            self.assertLess(max_diff, 1e-4)

            # Dynamic batch: the graph input's first dim is symbolic.
            graph_input = onnx.load(out).graph.input[0]
            dims = graph_input.type.tensor_type.shape.dim
            self.assertEqual(dims[0].dim_param, 'batch')
            self.assertEqual([d.dim_value for d in dims[1:]], [2, 3, 64, 32])

    @skipIf(not HAS_ONNXSCRIPT, 'onnxscript not installed (needed by '
            '--exporter dynamo: pip install onnxscript)')
    @pytest.mark.slow
    def test_denseil_stage2_default_exporter(self):
        tool = load_tool('tools/deployment/export_onnx.py')
        cfg = tiny_denseil_config()
        with tempfile.TemporaryDirectory() as tmp:
            torch.manual_seed(0)
            save_checkpoint(
                init_model(cfg).state_dict(), osp.join(tmp, 'tiny.pth'))
            cfg.dump(osp.join(tmp, 'tiny.py'))
            args = [osp.join(tmp, 'tiny.py'), osp.join(tmp, 'tiny.pth')]
            out = osp.join(tmp, 'tiny.onnx')
            # TorchScript traces the decoder's shapes for the export batch:
            # it fails the check at batch 3 and leaves no file behind.
            with self.assertRaisesRegex(
                    RuntimeError, 'No ONNX export passed the onnxruntime '
                    f'check at batch 3; nothing was written to {out}'):
                tool.main(args + ['--out', out, '--exporter', 'torchscript'])
            self.assertEqual(sorted(os.listdir(tmp)), ['tiny.pth', 'tiny.py'])
            # The default (auto) falls back to the dynamo exporter.
            max_diff = tool.main(args + ['--out', out])
            self.assertLess(max_diff, 1e-4)
            self.assertEqual(
                sorted(os.listdir(tmp)), ['tiny.onnx', 'tiny.pth', 'tiny.py'])
            model = onnx.load(out)
            self.assertEqual(model.opset_import[0].version, 18)
            ops = {n.op_type for n in model.graph.node}
            # The DI decoder's attention is in the graph.
            self.assertIn('Softmax', ops)

    def test_unwritable_out_fails_before_export(self):
        tool = load_tool('tools/deployment/export_onnx.py')
        with tempfile.TemporaryDirectory() as tmp:
            blocker = osp.join(tmp, 'file')
            open(blocker, 'w').close()
            with self.assertRaisesRegex(
                    PermissionError, f'--out {blocker}/x.onnx: cannot '
                    'write into'):
                tool.main([
                    'cfg.py', 'ckpt.pth', '--out',
                    osp.join(blocker, 'x.onnx')
                ])


class TestClipShape(TestCase):

    def test_from_config_and_errors(self):
        tool = load_tool('tools/deployment/export_onnx.py')
        cfg = tiny_config()
        self.assertEqual(tool.clip_shape_from_config(cfg), (2, 64, 32))
        # LoadFrames may resize too; the last resize sets the size.
        cfg.test_dataloader.dataset.pipeline[1] = dict(
            type='LoadFrames', scale=(64, 128))
        self.assertEqual(tool.clip_shape_from_config(cfg), (2, 64, 32))
        cfg.test_dataloader.dataset.pipeline = [dict(type='LoadFrames')]
        with self.assertRaisesRegex(ValueError, '--shape T H W'):
            tool.clip_shape_from_config(cfg)
