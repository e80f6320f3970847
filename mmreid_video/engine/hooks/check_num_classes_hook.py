# Copyright (c) mmreid_video contributors. All rights reserved.
"""A hook that checks heads against the number of train ids."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmreid_video.models.heads import BNNeckHead
from mmreid_video.registry import HOOKS


@HOOKS.register_module()
class CheckNumClassesHook(Hook):
    """Check every BNNeck head's ``num_classes`` against the train ids.

    A head with fewer classes than the training set has identities fails
    only when a batch first holds an id past the end (possibly epochs in);
    this hook fails at once, before the first iteration, naming the config
    key to change. More classes than ids only wastes classifier rows, so that
    case logs a warning.

    The train dataset must report its identity count as
    ``metainfo['num_ids']``, as every mmreid_video dataset does.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Compare ``num_classes`` with the train dataset's ``num_ids``.

        Args:
            runner (Runner): The runner of the training process.

        Raises:
            KeyError: The train dataset has no ``num_ids`` in its metainfo.
            ValueError: A head has fewer classes than there are train ids.
        """
        dataset = runner.train_dataloader.dataset
        if hasattr(dataset, 'full_init'):
            dataset.full_init()  # lazy_init datasets count ids on loading
        num_ids = dataset.metainfo.get('num_ids')
        if num_ids is None:
            raise KeyError(
                f'CheckNumClassesHook: the train dataset '
                f'{type(dataset).__name__} has no "num_ids" in its metainfo; '
                'set it to the number of training identities or remove '
                'CheckNumClassesHook from custom_hooks.')
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        for name, module in model.named_modules():
            if not isinstance(module, BNNeckHead):
                continue
            key = f'model.{name}.num_classes'
            if module.num_classes < num_ids:
                raise ValueError(
                    f'{key}={module.num_classes} is smaller than the number '
                    f'of training identities ({num_ids}) in '
                    f'{type(dataset).__name__}; set {key}={num_ids}.')
            if module.num_classes > num_ids:
                runner.logger.warning(
                    f'{key}={module.num_classes} is larger than the number of '
                    f'training identities ({num_ids}); the extra classes '
                    'are never trained.')
