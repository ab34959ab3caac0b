"""The LSTM itself: one step (:func:`lstm_cell`, the reference; the layer's loop shares its gate equations,
:func:`gates_to_state`), the layer stack (:class:`LSTM`) and its gate trace.

Imports only torch.
"""

from .cell import gates_to_state, lstm_cell
from .lstm import LSTM
from .trace import STEP_FIELDS, GateTrace

__all__ = ["STEP_FIELDS", "GateTrace", "LSTM", "gates_to_state", "lstm_cell"]
