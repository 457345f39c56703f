"""``torch.nn.modules.container``'s import path for soma's own classes
(defined in ``soma.nn.container``).

Not in soma: Container.
"""

from soma.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]
