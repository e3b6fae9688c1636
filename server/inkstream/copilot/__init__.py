"""Copilot's editor plugins, unmodified: the shapes they read (``shapes``) and what the server
remembers for them (``session``). The handlers are in ``handlers/copilot.py``; every
completion goes through the inline pipeline like any other.
"""
