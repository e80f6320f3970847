# Copyright (c) mmreid_video contributors. All rights reserved.
"""Export the clip feature extractor of a re-ID model to ONNX.

``python tools/deployment/export_onnx.py CONFIG CHECKPOINT [--out FILE]``
exports ``model.extract_feat``: input ``clips`` of shape (B, T, 3, H, W)
(normalised float frames, as after the data preprocessor), output ``feats``
(B, D) (the BN descriptor, not L2-normalised), with a dynamic batch axis.
T, H and W come from the config's test pipeline (clip sampling ``clip_len``,
last resize ``scale=(W, H)``) unless ``--shape T H W`` is given.

The export goes to a temporary file next to ``--out``, is checked with
onnxruntime on a batch of another size (``--verify-batch``) against PyTorch,
and only then renamed to ``--out``: a failed export leaves no file. The
default exporter ``auto`` tries the TorchScript exporter (opset 17) and, when
its graph fails that check (DenseIL stage 2: its decoder's shapes get traced
for the export batch), the ``torch.export``-based ``dynamo`` exporter (opset
18, needs ``pip install onnxscript``). Needs ``pip install onnx
onnxruntime``.
"""
import argparse
import importlib.util
import warnings
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import numpy as np

if TYPE_CHECKING:
    import torch.nn as nn
    from mmengine.config import Config

EXPORTERS = ('torchscript', 'dynamo')
CHOICES = ('auto', ) + EXPORTERS


def clip_feature_extractor(model: 'nn.Module') -> 'nn.Module':
    """Wrap ``model.extract_feat`` as a module's forward, for export.

    Args:
        model (nn.Module): A model with ``extract_feat(clips) -> (B, D)``.

    Returns:
        nn.Module: Its forward maps (B, T, 3, H, W) clips to (B, D)
        descriptors.
    """
    import torch.nn as nn

    class ClipFeatureExtractor(nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, clips):
            return self.model.extract_feat(clips)

    return ClipFeatureExtractor()


def clip_shape_from_config(cfg: 'Config') -> Tuple[int, int, int]:
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


def export(model: 'nn.Module',
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
    import torch
    if exporter not in EXPORTERS:
        raise ValueError(f'exporter must be one of {EXPORTERS}, got '
                         f'{exporter!r}')
    # Batch 2: torch.export specialises a dimension whose example size is 1.
    dummy = torch.randn(2, clip_shape[0], 3, clip_shape[1], clip_shape[2])
    wrapper = clip_feature_extractor(model).eval()
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


def verify(model: 'nn.Module',
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
    import torch

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
        choices=CHOICES,
        default='auto',
        help='auto (default): torchscript, then dynamo if the torchscript '
        'graph fails the onnxruntime check (e.g. DenseIL stage 2); '
        'torchscript; or dynamo (torch.export; needs onnxscript, opset >= '
        '18)')
    parser.add_argument(
        '--opset',
        type=int,
        help='ONNX opset (default: 17 for torchscript, 18 for dynamo)')
    parser.add_argument(
        '--verify-batch',
        type=int,
        default=3,
        help='batch size of the onnxruntime check (default 3; differs from '
        'the export batch of 2 to exercise the dynamic axis)')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='fail (and write nothing) if the max abs difference exceeds '
        'this')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override config settings')
    args = parser.parse_args(argv)
    # The package is imported after parsing: --help answers at once.
    from mmreid_video.utils import finish_tool_args
    return finish_tool_args(parser, args)


def _short(err: Exception) -> str:
    """The first line of an error, for a summary."""
    lines = str(err).strip().splitlines() or ['']
    return f'{type(err).__name__}: {lines[0][:300]}'


def export_verified(model: 'nn.Module',
                    out_file: str,
                    clip_shape: Sequence[int],
                    exporter: str = 'auto',
                    opset: Optional[int] = None,
                    verify_batch: int = 3,
                    atol: float = 1e-4) -> Tuple[str, int, float]:
    """Export, check with onnxruntime, and only then write ``out_file``.

    Args:
        model (nn.Module): Model in eval mode, on CPU.
        out_file (str): Output ``.onnx`` path.
        clip_shape (Sequence[int]): (T, H, W) of the clips.
        exporter (str): ``'auto'`` (TorchScript, then dynamo if that fails
            the check), ``'torchscript'`` or ``'dynamo'``. Defaults to
            'auto'.
        opset (int, optional): ONNX opset; 17 for TorchScript, 18 for
            dynamo when None. Defaults to None.
        verify_batch (int): Batch size of the onnxruntime check. Defaults
            to 3.
        atol (float): Largest allowed max abs difference. Defaults to 1e-4.

    Returns:
        tuple[str, int, float]: The exporter and opset used, and the max abs
        difference of the check.

    Raises:
        RuntimeError: No exporter gave a graph that passes the check; the
            message lists each attempt, and nothing is written.
    """
    if exporter not in CHOICES:
        raise ValueError(f'exporter must be one of {CHOICES}, got '
                         f'{exporter!r}')
    from mmreid_video.fileio import atomic_output
    names = EXPORTERS if exporter == 'auto' else (exporter, )
    failures = []
    for name in names:
        if (exporter == 'auto' and name == 'dynamo'
                and importlib.util.find_spec('onnxscript') is None):
            failures.append('dynamo: not tried, onnxscript is not '
                            'installed (pip install onnxscript)')
            continue
        version = opset or (18 if name == 'dynamo' else 17)
        try:
            # Checked before it is renamed into place; removed otherwise.
            with atomic_output(out_file) as tmp_file:
                export(model, tmp_file, clip_shape, version, name)
                max_diff = verify(model, tmp_file, clip_shape, verify_batch)
                if max_diff > atol:
                    raise RuntimeError(f'max abs diff {max_diff:.3e} '
                                       f'exceeds --atol {atol}')
            return name, version, max_diff
        except Exception as err:  # each failure is reported below
            failures.append(f'{name} (opset {version}): {_short(err)}')
            if len(names) > 1 and name != names[-1]:
                print(f'The {name} export failed its onnxruntime check at '
                      f'batch {verify_batch} ({_short(err)[:120]}); trying '
                      'the next exporter.')
    raise RuntimeError(
        f'No ONNX export passed the onnxruntime check at batch '
        f'{verify_batch}; nothing was written to {out_file}.\n' +
        '\n'.join(failures))


def main(argv: Optional[List[str]] = None) -> float:
    args = parse_args(argv)
    from mmreid_video.apis import init_model
    from mmreid_video.utils import check_output_path, load_config
    check_output_path(args.out, '--out', ('.onnx', ))
    cfg = load_config(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    clip_shape = tuple(
        args.shape) if args.shape else clip_shape_from_config(cfg)
    model = init_model(cfg, args.checkpoint, device='cpu')
    exporter, opset, max_diff = export_verified(model, args.out, clip_shape,
                                                args.exporter, args.opset,
                                                args.verify_batch, args.atol)
    print(f'Exported {args.out}: clips (B, {clip_shape[0]}, 3, '
          f'{clip_shape[1]}, {clip_shape[2]}) -> feats (B, D), opset '
          f'{opset}, {exporter} exporter; onnxruntime vs PyTorch (batch '
          f'{args.verify_batch}): max abs diff {max_diff:.3e}')
    return max_diff


if __name__ == '__main__':
    main()
