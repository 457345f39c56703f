"""``torch.nn.modules.module``'s import path for soma's own classes
(defined in ``soma.nn.module``).

Not in soma: register_module_forward_pre_hook, register_module_forward_hook,
register_module_full_backward_pre_hook, register_module_backward_hook, register_module_full_backward_hook,
register_module_buffer_registration_hook, register_module_module_registration_hook,
register_module_parameter_registration_hook.
"""

from soma.nn.module import Module

__all__ = ["Module"]
