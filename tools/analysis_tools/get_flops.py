# Copyright (c) mmreid_video contributors. All rights reserved.
"""Parameters and FLOPs of a re-ID model, encoder and decoder separately.

The encoder is the backbone run on the T frames of one clip; the decoder is
what turns its feature maps into the inference descriptor (neck + the head's
BN; for DenseIL the DI decoder of stage 2, for the baseline temporal pooling).
Counted with mmengine's ``FlopAnalyzer`` (one multiply-add = one FLOP, the
OpenMMLab convention) plus a handle for ``scaled_dot_product_attention``::

    python tools/analysis_tools/get_flops.py \\
        configs/denseil/denseil_r50_mars.py
"""
import argparse
from typing import TYPE_CHECKING, Any, List, Tuple

if TYPE_CHECKING:
    import torch.nn as nn


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Params and FLOPs of encoder and decoder')
    parser.add_argument('config', help='config file')
    parser.add_argument('--frames', type=int, default=8, help='frames T')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[256, 128],
        metavar=('H', 'W'),
        help='frame size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action='extend',
        metavar='KEY=VALUE',
        help='override config settings')
    args = parser.parse_args()
    # The package is imported after parsing: --help answers at once.
    from mmreid_video.utils import finish_tool_args
    return finish_tool_args(parser, args)


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """MACs of softmax(Q K^T) V: 2 * batch * heads * Lq * Lk * head_dims."""
    from mmengine.analysis.jit_handles import get_shape
    q_shape, k_shape = get_shape(inputs[0]), get_shape(inputs[1])
    *batch, q_len, head_dims = q_shape
    k_len = k_shape[-2]
    num = 1
    for size in batch:
        num *= size
    return 2 * num * q_len * k_len * head_dims


def decoder_module(neck: 'nn.Module', head: 'nn.Module',
                   num_frames: int) -> 'nn.Module':
    """Backbone maps -> inference descriptor (neck + head BN), as one
    module (what ``FlopAnalyzer`` counts)."""
    import torch.nn as nn

    class Decoder(nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.neck, self.head = neck, head

        def forward(self, *feats):
            return self.head.pre_logits(self.neck(feats, num_frames))

    return Decoder()


def analyse(module: 'nn.Module', inputs: tuple) -> Tuple[int, int, set]:
    """FLOPs, parameters and the operators left uncounted."""
    from mmengine.analysis import FlopAnalyzer, parameter_count
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    flops = analyzer.total()
    return flops, parameter_count(module)[''], set(analyzer.unsupported_ops())


def main() -> None:
    args = parse_args()
    import torch
    from mmengine.analysis import parameter_count
    from mmengine.registry import init_default_scope

    from mmreid_video.registry import MODELS
    from mmreid_video.utils import load_config
    cfg = load_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmreid_video'))
    # Random weights: counts do not depend on them and nothing downloads.
    cfg.model.backbone.init_cfg = None
    if 'encoder_checkpoint' in cfg.model:
        cfg.model.encoder_checkpoint = None
    model = MODELS.build(cfg.model)
    if hasattr(model, 'set_train_stage'):
        model.set_train_stage(2)  # the full DenseIL inference path
    model.eval()

    frames = torch.randn(args.frames, 3, *args.shape)
    encoder = model.backbone  # on the frames of one clip
    decoder = decoder_module(model.neck, model.head, args.frames)
    with torch.no_grad():
        feats = encoder(frames)
    enc_flops, enc_params, enc_skip = analyse(encoder, (frames, ))
    dec_flops, dec_params, dec_skip = analyse(decoder, tuple(feats))
    # The classifier only trains; it is not part of the descriptor.
    dec_params -= model.head.classifier.weight.numel()
    total_params = parameter_count(model)['']

    print(f'Config: {args.config}')
    print(f'Input: 1 clip = {args.frames} frames x 3 x {args.shape[0]} x '
          f'{args.shape[1]}; FLOPs = multiply-adds')
    rows = [('encoder (backbone)', enc_params, enc_flops),
            (f'decoder ({type(model.neck).__name__} + head BN)', dec_params,
             dec_flops),
            ('inference total', enc_params + dec_params, enc_flops + dec_flops)
            ]
    for name, params, flops in rows:
        print(f'{name:<36} params {params / 1e6:8.2f} M   FLOPs '
              f'{flops / 1e9:8.2f} G')
    print(f'decoder / encoder FLOPs: {dec_flops / enc_flops * 100:.2f} %')
    print(f'all parameters incl. training-only ones: '
          f'{total_params / 1e6:.2f} M')
    skipped = sorted(enc_skip | dec_skip)
    if skipped:
        print(f'not counted (no FLOP handle): {", ".join(skipped)}')


if __name__ == '__main__':
    main()
