"""The wire codec: Freqtrade message-websocket envelopes and the dataframe payload.

Pure functions and immutable values; no I/O and no state.
"""

from .frames import (
    FrameDecodeError,
    decode_dataframe,
    encode_dataframe,
    reference_decode_dataframe,
)
from .messages import *  # noqa: F403
from .messages import __all__ as _messages_all

__all__ = [
    "FrameDecodeError",
    "decode_dataframe",
    "encode_dataframe",
    "reference_decode_dataframe",
    *_messages_all,
]
