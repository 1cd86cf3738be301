"""Bobbin's benchmark suite: ``python -m bench [--quick] [--only NAME]`` (``make bench``).

Every figure is a ratio against a floor measured in the same run, on the same machine: the
harness (``bench.common``) starts its own embedded Postgres and Redis (or uses ``DATABASE_URL`` /
``REDIS_URL``), real ``celery -A worker worker -c 1`` processes, and the Brandboom sandbox in a
process of its own. Never part of ``make test``.
"""
