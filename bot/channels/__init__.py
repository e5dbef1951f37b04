"""Rasa input channels of the project: the ENT chat window's API."""
