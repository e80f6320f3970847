"""Batches of the identity sampler, with its P x K contract checked."""
from torch.utils.data import BatchSampler

from mmreid_video.registry import DATA_SAMPLERS
from .identity_sampler import IdentitySampler


@DATA_SAMPLERS.register_module()
class IdentityBatchSampler(BatchSampler):
    """Cut the index stream of :class:`IdentitySampler` into P x K batches.

    An :class:`IdentitySampler` yields K tracklets of an id, then K of the
    next, P ids per batch. Batched with any other size, the blocks straddle
    batches and triplet mining sees ids with 1 or 5 tracklets; this batch
    sampler refuses that when the dataloader is built. The MMEngine runner
    builds it from the dataloader's ``batch_size`` and ``sampler`` keys::

        train_dataloader = dict(
            batch_size=32,
            sampler=dict(type='IdentitySampler', num_ids=8, num_instances=4),
            batch_sampler=dict(type='IdentityBatchSampler'))

    Args:
        sampler (IdentitySampler): The built ``sampler`` of the dataloader.
        batch_size (int): The dataloader's ``batch_size``; must equal
            ``sampler.num_ids * sampler.num_instances``.
    """

    def __init__(self, sampler: IdentitySampler, batch_size: int) -> None:
        if not isinstance(sampler, IdentitySampler):
            raise TypeError(
                'IdentityBatchSampler (train_dataloader.batch_sampler) needs '
                "train_dataloader.sampler=dict(type='IdentitySampler', ...), "
                f'got {type(sampler).__name__}.')
        pk = sampler.num_ids * sampler.num_instances
        if isinstance(batch_size, bool) or batch_size != pk:
            raise ValueError(
                f'train_dataloader.batch_size={batch_size!r} must equal '
                'train_dataloader.sampler.num_ids x num_instances = '
                f'{sampler.num_ids} x {sampler.num_instances} = {pk}: every '
                'batch holds P identities x K tracklets. Change one of them.')
        super().__init__(sampler, pk, drop_last=True)
