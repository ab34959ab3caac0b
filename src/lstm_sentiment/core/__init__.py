"""The LSTM itself: one step (:func:`lstm_cell`), the layer stack (:class:`LSTM`) and its gate trace.

Imports only torch.
"""

from .cell import GATE_NAMES, gates_to_state, lstm_cell
from .lstm import LSTM
from .trace import GateTrace

__all__ = ["GATE_NAMES", "GateTrace", "LSTM", "gates_to_state", "lstm_cell"]
