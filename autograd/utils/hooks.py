"""``RemovableHandle`` (``torch.utils.hooks.RemovableHandle``): what every ``register_*hook`` of
tapegrad returns — tensor hooks, graph-node hooks, post-accumulate-grad hooks, module hooks and
optimizer step hooks alike.

Hooks live in a dict keyed by the handle's ``id`` (insertion order is call order; a caller that
prepends moves the new id to the front), so removing one hook never disturbs the others and a
second ``remove()`` is harmless.
"""

import itertools

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """A handle that removes a hook (PyTorch's ``RemovableHandle``).

    Args:
        hooks_dict (dict): where the caller stores the hook under ``handle.id``.
        extra_dict (dict or list of dict, optional): more dicts keyed by the same id (per-hook
            options) to clean up on removal.

    Attributes:
        id (int): the key of the hook in ``hooks_dict``, unique in the process.

    Usable as a context manager: the hook is removed on exit.
    """

    __slots__ = ("hooks_dict", "extra_dicts", "id")

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict = hooks_dict
        if extra_dict is None:
            extra_dict = ()
        elif isinstance(extra_dict, dict):
            extra_dict = (extra_dict,)
        self.extra_dicts = tuple(extra_dict)
        self.id = next(_ids)

    def remove(self):
        """Unregister the hook (a second call does nothing)."""
        self.hooks_dict.pop(self.id, None)
        for d in self.extra_dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"


def add_hook(hooks_dict, hook, prepend=False, extra_dict=None):
    """Store ``hook`` in ``hooks_dict`` under a new handle's id (first when ``prepend``) and
    return the handle."""
    handle = RemovableHandle(hooks_dict, extra_dict=extra_dict)
    hooks_dict[handle.id] = hook
    if prepend:
        hooks_dict.move_to_end(handle.id, last=False)
    return handle
