"""Next-edit suggestions: edits away from the cursor, predicted from the user's recent edits.

history.py (edits per document) → propagate.py (the offline predictor) and formats.py (prompts per
model family) → converge.py (a rewritten region's line stream → final hunks) → hunk.py (LSP edits).
"""
