"""``torch.nn.modules.container``'s import path for soma's own classes
(defined in ``soma.nn.container``).

Not in soma: Container, ParameterDict.
"""

from soma.nn.container import ModuleDict, ModuleList, ParameterList, Sequential

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList"]
