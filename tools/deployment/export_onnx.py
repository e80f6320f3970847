"""Export the clip feature extractor of a re-ID model to ONNX.

``python tools/deployment/export_onnx.py CONFIG CHECKPOINT [--out FILE]``
exports ``model.extract_feat``: input ``clips`` of shape (B, T, 3, H, W)
(normalised float frames, as after the data preprocessor), output ``feats``
(B, D) (the BN descriptor, not L2-normalised), with a dynamic batch axis.
T, H and W come from the config's test pipeline (clip sampling ``clip_len``,
last resize ``scale=(W, H)``) unless ``--shape T H W`` is given. The export is
then checked with onnxruntime on a batch of another size and the max abs
difference to PyTorch is printed. Needs ``pip install onnx onnxruntime``.

The default TorchScript exporter writes opset 17. Models with ops that need
static spatial sizes under a dynamic batch (DenseIL stage 2: adaptive stripe
pooling) need ``--exporter dynamo`` (``pip install onnxscript``, opset 18).
"""
import argparse
import sys
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction

from mmreid_video.apis import init_model

EXPORTERS = ('torchscript', 'dynamo')


class ClipFeatureExtractor(nn.Module):
    """Wrap ``model.extract_feat`` as the module's forward for export.

    Args:
        model (nn.Module): A model with ``extract_feat(clips) -> (B, D)``.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Return the (B, D) descriptors of (B, T, 3, H, W) clips."""
        return self.model.extract_feat(clips)


def clip_shape_from_config(cfg: Config) -> Tuple[int, int, int]:
    """Read (T, H, W) from the test pipeline.

    Args:
        cfg (Config): The model config.

    Returns:
        tuple[int, int, int]: Clip length, frame height and width.
    """
    pipeline = cfg.test_dataloader.dataset.pipeline
    clip_lens = [t['clip_len'] for t in pipeline if 'clip_len' in t]
    # LoadFrames and ClipResize may both resize; the last one sets the size.
    scales = [t['scale'] for t in pipeline if t.get('scale') is not None]
    if len(clip_lens) != 1 or not scales:
        raise ValueError('Cannot read the clip shape: expected one test '
                         'pipeline step with `clip_len` and one with `scale`'
                         f', found {len(clip_lens)} and {len(scales)}; pass '
                         '--shape T H W')
    width, height = scales[-1]
    return int(clip_lens[0]), int(height), int(width)


def export(model: nn.Module,
           out_file: str,
           clip_shape: Sequence[int],
           opset: int = 17,
           exporter: str = 'torchscript') -> None:
    """Export ``model.extract_feat`` to ONNX with a dynamic batch axis.

    Args:
        model (nn.Module): Model in eval mode, on CPU.
        out_file (str): Output ``.onnx`` path.
        clip_shape (Sequence[int]): (T, H, W) of the clips.
        opset (int): ONNX opset version. Defaults to 17.
        exporter (str): ``'torchscript'`` (no extra dependency) or
            ``'dynamo'`` (``torch.export``, needs ``onnxscript`` and opset
            >= 18; keeps H and W static under a dynamic batch, which ops
            such as DenseIL's stripe pooling need). Defaults to
            'torchscript'.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f'exporter must be one of {EXPORTERS}, got '
                         f'{exporter!r}')
    # Batch 2: torch.export specialises a dimension whose example size is 1.
    dummy = torch.randn(2, clip_shape[0], 3, clip_shape[1], clip_shape[2])
    wrapper = ClipFeatureExtractor(model).eval()
    if exporter == 'dynamo':
        torch.onnx.export(
            wrapper, (dummy, ),
            out_file,
            dynamo=True,
            external_data=False,
            opset_version=opset,
            input_names=['clips'],
            output_names=['feats'],
            dynamic_shapes={'clips': {
                0: torch.export.Dim('batch', min=1)
            }})
        return
    try:
        with warnings.catch_warnings():
            # The tracer warns about the models' shape checks, which hold
            # for every batch size.
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            torch.onnx.export(
                wrapper, (dummy, ),
                out_file,
                dynamo=False,
                opset_version=opset,
                input_names=['clips'],
                output_names=['feats'],
                dynamic_axes={
                    'clips': {
                        0: 'batch'
                    },
                    'feats': {
                        0: 'batch'
                    }
                })
    except torch.onnx.errors.OnnxExporterError as err:
        raise RuntimeError(
            f'The TorchScript exporter failed ({str(err)[:200]}...); try '
            '--exporter dynamo (pip install onnxscript).') from err


def verify(model: nn.Module,
           onnx_file: str,
           clip_shape: Sequence[int],
           batch_size: int = 3,
           seed: int = 0) -> float:
    """Compare onnxruntime and PyTorch outputs on random clips.

    Args:
        model (nn.Module): The exported model (eval mode, CPU).
        onnx_file (str): The ``.onnx`` file.
        clip_shape (Sequence[int]): (T, H, W) of the clips.
        batch_size (int): Batch size of the check. Defaults to 3.
        seed (int): Seed of the random clips. Defaults to 0.

    Returns:
        float: Max absolute difference of the descriptors.
    """
    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(onnx.load(onnx_file))
    generator = torch.Generator().manual_seed(seed)
    clips = torch.randn(
        batch_size,
        clip_shape[0],
        3,
        clip_shape[1],
        clip_shape[2],
        generator=generator)
    with torch.no_grad():
        expected = model.extract_feat(clips).numpy()
    session = ort.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    (actual, ) = session.run(['feats'], {'clips': clips.numpy()})
    if actual.shape != expected.shape:
        raise RuntimeError(f'ONNX output shape {actual.shape} != PyTorch '
                           f'{expected.shape}')
    return float(np.abs(actual - expected).max())


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export the clip feature extractor to ONNX')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', default='reid_feature.onnx', help='output .onnx file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=3,
        metavar=('T', 'H', 'W'),
        help='clip length and frame size (default: from the test pipeline)')
    parser.add_argument(
        '--exporter',
        choices=EXPORTERS,
        default='torchscript',
        help='torchscript (default), or dynamo (torch.export; needs '
        'onnxscript and --opset >= 18) for models the TorchScript exporter '
        'cannot take with a dynamic batch, e.g. DenseIL stage 2')
    parser.add_argument(
        '--opset',
        type=int,
        help='ONNX opset (default: 17, or 18 with --exporter dynamo)')
    parser.add_argument(
        '--verify-batch',
        type=int,
        default=3,
        help='batch size of the onnxruntime check (differs from the export '
        'batch of 2 to exercise the dynamic axis)')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='fail if the max abs difference exceeds this')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> float:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    clip_shape = tuple(
        args.shape) if args.shape else clip_shape_from_config(cfg)
    opset = args.opset or (18 if args.exporter == 'dynamo' else 17)
    model = init_model(cfg, args.checkpoint, device='cpu')
    export(model, args.out, clip_shape, opset, args.exporter)
    print(f'Exported {args.out}: clips (B, {clip_shape[0]}, 3, '
          f'{clip_shape[1]}, {clip_shape[2]}) -> feats (B, D), opset '
          f'{opset}, {args.exporter} exporter')
    max_diff = verify(model, args.out, clip_shape, args.verify_batch)
    print(f'onnxruntime vs PyTorch (batch {args.verify_batch}): '
          f'max abs diff {max_diff:.3e}')
    if max_diff > args.atol:
        sys.exit(f'Max abs diff {max_diff:.3e} exceeds --atol {args.atol}')
    return max_diff


if __name__ == '__main__':
    main()
