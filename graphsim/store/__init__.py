"""Persistence: the SQLite store of worlds. (Reading and converting AWS exports is ``graphsim.imports``.)"""
