"""translate-synth: synthetic parallel data for low-resource machine translation.

Data flows one way: ingest -> synthesise -> score -> filter -> emit (-> report).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
