"""Plain-Python building blocks shared by the webapp, exporters/ and rm_training/.

Nothing here imports Django, Celery or webapp (an import-linter contract and a test enforce it),
so any layer can use it without settings: import-file parsing (formats), Markdown rendering and
sanitizing (rendering), guideline diffs (diff), canonical-JSON hashing (hashing), the rater
pseudonym rule (pseudonyms) and agreement / bias statistics over numpy arrays (agreement). Limits
that the webapp configures are passed in as arguments.
"""
