"""Thin Celery wrappers: take ids, call one service function, return a small JSON summary."""
