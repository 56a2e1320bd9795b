"""Pieces of server/settings.py that are whole topics of their own: each builds one setting
(the databases, the channel layer and cache, logging) from the environment."""
