"""Shared core of Orientation Bot: settings, storage, text normalisation, safety, tickets."""
