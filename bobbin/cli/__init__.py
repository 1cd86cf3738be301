"""The ``bobbin`` command line: for operations staff first, the brand's developer second.

It holds no business logic: each command parses its arguments, calls one service function, and
presents the result (``output.py``: tables, ``--json``, the one-line error).
"""
