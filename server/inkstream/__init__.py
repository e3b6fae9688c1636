"""inkstream: a streaming AI coding assistant that runs as a language server.

Importing this package must stay cheap: editors wait on start-up, so heavy modules load lazily.
"""

__version__ = "0.1.0"
