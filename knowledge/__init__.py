"""The knowledge pipeline: transcripts -> anonymised Q/A pairs -> KB entries -> Rasa training data.

Stages (each a typed function, run in order by ``knowledge.pipeline``):
load -> anonymise -> extract -> cluster -> store -> export.
"""
