"""One random generator for all of soma: ``manual_seed`` makes every random call repeatable.

Every random function (``rand``, ``randn``, ``randint``, ``nn.init``, ``Dropout``,
``DataLoader(shuffle=True)``, ...) draws from :func:`generator`. Its streams are
NumPy's PCG64, so numbers differ from PyTorch's for the same seed; what carries over
is that the same seed gives the same run.
"""

import json

import numpy as np

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "generator", "get_rng_state", "set_rng_state"]


class _State:
    seed = 0
    generator = np.random.Generator(np.random.PCG64(0))


def manual_seed(seed):
    """Seed the global generator; returns it (as ``torch.manual_seed`` returns its generator)."""
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _State.seed = seed
    _State.generator = np.random.Generator(np.random.PCG64(seed))
    return _State.generator


def seed():
    """Seed the global generator from the operating system's entropy; returns the seed."""
    return manual_seed(int(np.random.SeedSequence().entropy % (2**63)))


def initial_seed():
    """The seed last given to :func:`manual_seed`."""
    return _State.seed


def generator():
    """The global ``numpy.random.Generator`` every random function draws from."""
    return _State.generator


def _state_tensor(bit_generator):
    """A bit generator's state as a uint8 tensor of its JSON (safetensors-friendly, no pickle)."""
    from soma.tensor import Tensor

    text = json.dumps(bit_generator.state)
    return Tensor._make(np.frombuffer(text.encode(), dtype=np.uint8).copy(), False)


def _bit_generator_of(state, name):
    """The bit generator a :func:`_state_tensor` describes (a ValueError naming ``name`` for anything else)."""
    from soma import backend

    array = state._array if hasattr(state, "_array") else np.asarray(state)
    raw = backend.to_numpy(array).astype(np.uint8, copy=False)  # the bytes, on the host
    try:
        value = json.loads(raw.tobytes().decode())
        bit_generator = getattr(np.random, value["bit_generator"])()
        bit_generator.state = value
    except (ValueError, KeyError, AttributeError, TypeError) as error:
        raise ValueError(f"{name}: not a state saved by soma.get_rng_state ({error})") from None
    return bit_generator


def get_rng_state():
    """The global generator's state as a uint8 tensor (safetensors-friendly, no pickle)."""
    return _state_tensor(_State.generator.bit_generator)


def set_rng_state(state):
    """Restore a state returned by :func:`get_rng_state`."""
    _State.generator = np.random.Generator(_bit_generator_of(state, "set_rng_state"))


_DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator


class Generator(np.random.Generator):
    """A random stream of its own (``torch.Generator``): pass it as ``generator=`` to soma's random functions,
    samplers and ``random_split``. It is a ``numpy.random.Generator`` (PCG64), so its numbers differ from
    PyTorch's for the same seed; the same seed gives the same stream.

    Example::

        >>> g = soma.Generator().manual_seed(0)
        >>> soma.randn(2, generator=g).shape
        (2,)
    """

    def __init__(self, device="cpu"):
        from soma._device import resolve

        super().__init__(np.random.PCG64(_DEFAULT_SEED))
        self.device = resolve(device, "Generator") if device is not None else None
        self._initial_seed = _DEFAULT_SEED

    def manual_seed(self, seed):
        """Restart the stream from ``seed``; returns this generator."""
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"Generator.manual_seed: seed must be non-negative, got {seed}")
        self.bit_generator.state = np.random.PCG64(seed).state
        self._initial_seed = seed
        return self

    def seed(self):
        """Restart from a seed drawn from the operating system's entropy; returns the seed."""
        value = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(value)
        return value

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """The stream's state as a uint8 tensor (restore it with :meth:`set_state`)."""
        return _state_tensor(self.bit_generator)

    def set_state(self, state):
        self.bit_generator.state = _bit_generator_of(state, "Generator.set_state").state
        return self
