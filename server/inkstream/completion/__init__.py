"""What decides whether and what to ask the model, and what the editor gets back.

The stages, in order: ``documents`` (request to context), ``context``, ``snippets`` and
``privacy``, ``prompts``, ``postprocess``. ``debounce``, ``cache`` and ``generation`` decide
whether to ask the model at all.
"""
