"""Usage: what each upstream request cost, the daily budget, and which suggestions were kept.

Everything stays on this machine, in one SQLite file (``store.py``); see docs/usage.md.
"""
