# Copyright (c) mmreid_video contributors. All rights reserved.
"""Refuse train batches that break the identity sampler's P x K contract."""
from mmengine.hooks import Hook

from mmreid_video.datasets.samplers import IdentitySampler
from mmreid_video.registry import HOOKS


@HOOKS.register_module()
class CheckIdentityBatchHook(Hook):
    """Check, before the first iteration, that an :class:`IdentitySampler`
    is batched by P x K.

    ``IdentityBatchSampler`` checks this when it is built, but a config
    that drops the ``batch_sampler`` key lets the DataLoader cut the
    sampler's stream by ``batch_size`` alone: any other size than
    ``num_ids x num_instances`` straddles the K-tracklet blocks, so triplet
    mining sees ids with 1 or 5 tracklets, silently.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Compare the train loader's batch size with P x K.

        Args:
            runner (Runner): The runner of the training process.

        Raises:
            ValueError: The batches are not P x K.
        """
        loader = runner.train_dataloader
        sampler = getattr(loader, 'sampler', None)
        if not isinstance(sampler, IdentitySampler):
            return
        pk = sampler.num_ids * sampler.num_instances
        if loader.batch_size != pk:
            raise ValueError(
                f'train_dataloader.batch_size={loader.batch_size} must equal '
                'train_dataloader.sampler.num_ids x num_instances = '
                f'{sampler.num_ids} x {sampler.num_instances} = {pk}: every '
                'batch holds P identities x K tracklets. Change one of them '
                "and keep batch_sampler=dict(type='IdentityBatchSampler').")
