"""The messages the page may send, and their validation.

Every message is one JSON object of at most ``MAX_MESSAGE_BYTES`` with a ``type`` and
only the fields that type declares, each within its range (pydantic, strict: no string
is turned into a number). Anything else gets ``{"type": "error", "message": ...}``
back and the session carries on.

======================  ====================================================================
``config``              any of: dataset, noise, train_ratio, batch_size, features, hidden,
                        activation, learning_rate, optimizer, regularization, reg_rate,
                        dropout, seed
``play`` ``pause``      start / stop training (one epoch at a time)
``step``                ``epochs`` (1-100) epochs, then pause
``reset``               new weights, epoch 0
``explain``             ``layer``, ``neuron``, ``sample`` (index of a training point): the
                        neuron's arithmetic from ``soma.explain.step``
``set_weight``          ``layer``, ``neuron``, ``input``, ``value``: edit one weight
``notes``               ``network`` (backprop-222 | xor), ``sample``, ``apply``, ``reset``: a
                        worked network of the notes, one SGD step at a time
``export``              ``format``: script | safetensors
======================  ====================================================================
"""

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from soma.playground.data import DATASETS, FEATURES

__all__ = ["MAX_MESSAGE_BYTES", "ACTIVATIONS", "OPTIMIZERS", "REGULARIZATIONS", "parse", "ProtocolError"]

MAX_MESSAGE_BYTES = 4096
MAX_LAYERS = 6
MAX_NEURONS = 8
ACTIVATIONS = ("step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
NOTES_NETWORKS = ("backprop-222", "xor")


class ProtocolError(ValueError):
    """A message the server does not accept; its text goes back to the page."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Config(_Message):
    type: Literal["config"]
    dataset: Literal[DATASETS] | None = None
    noise: Annotated[int, Field(ge=0, le=50)] | None = None
    train_ratio: Annotated[int, Field(ge=10, le=90)] | None = None
    batch_size: Annotated[int, Field(ge=1, le=30)] | None = None
    features: Annotated[list[Literal[tuple(FEATURES)]], Field(min_length=1, max_length=len(FEATURES))] | None = None
    hidden: Annotated[list[Annotated[int, Field(ge=1, le=MAX_NEURONS)]], Field(max_length=MAX_LAYERS)] | None = None
    activation: Literal[ACTIVATIONS] | None = None
    learning_rate: Annotated[float, Field(ge=1e-5, le=10)] | None = None
    optimizer: Literal[OPTIMIZERS] | None = None
    regularization: Literal[REGULARIZATIONS] | None = None
    reg_rate: Annotated[float, Field(ge=0, le=10)] | None = None
    dropout: Annotated[float, Field(ge=0, le=0.9)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class Play(_Message):
    type: Literal["play"]


class Pause(_Message):
    type: Literal["pause"]


class Step(_Message):
    type: Literal["step"]
    epochs: Annotated[int, Field(ge=1, le=100)] = 1


class Reset(_Message):
    type: Literal["reset"]


_Layer = Annotated[int, Field(ge=0, le=MAX_LAYERS)]  # 0 .. hidden layers; the last is the output
_Neuron = Annotated[int, Field(ge=0, le=MAX_NEURONS - 1)]


class Explain(_Message):
    type: Literal["explain"]
    layer: _Layer
    neuron: _Neuron
    sample: Annotated[int, Field(ge=0, le=10_000)] = 0


class SetWeight(_Message):
    type: Literal["set_weight"]
    layer: _Layer
    neuron: _Neuron
    input: Annotated[int, Field(ge=-1, le=MAX_NEURONS - 1)]  # -1 is the bias
    value: Annotated[float, Field(ge=-100, le=100)]


class Notes(_Message):
    type: Literal["notes"]
    network: Literal[NOTES_NETWORKS]
    sample: Annotated[int, Field(ge=0, le=3)] = 0
    apply: bool = False
    reset: bool = False


class Export(_Message):
    type: Literal["export"]
    format: Literal["script", "safetensors"]


Message = Annotated[
    Config | Play | Pause | Step | Reset | Explain | SetWeight | Notes | Export, Field(discriminator="type")
]
_ADAPTER = TypeAdapter(Message)


def _describe(error):
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"][1:]) or "message"
    return f"{where}: {first['msg']}"


def parse(text):
    """The validated message in ``text`` (a str or bytes frame); raises :class:`ProtocolError`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("a message must be UTF-8 JSON text") from None
    if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a message may be at most {MAX_MESSAGE_BYTES} bytes")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError("a message must be one JSON object") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError('a message must be a JSON object with a string "type"')
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as error:
        raise ProtocolError(f"bad {raw['type']!r} message: {_describe(error)}") from None
