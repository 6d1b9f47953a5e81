"""producerconsumer: Freqtrade's producer/consumer mode, from Jupyter."""

from . import wire

__all__ = ["wire"]
__version__ = "0.1.0"
