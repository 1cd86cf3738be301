# Bobbin: one image for worker, beat, Flower, the web app, migrations and the sandboxes (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOBBIN_HOME=/var/lib/bobbin

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/bobbin --create-home --shell /usr/sbin/nologin bobbin

WORKDIR /app

COPY pyproject.toml README.md ./
COPY core ./core
COPY bobbin ./bobbin
COPY worker ./worker
COPY tasks ./tasks
COPY models ./models
COPY schedules ./schedules
COPY connectors ./connectors
COPY services ./services
COPY sandbox ./sandbox
COPY web ./web
RUN pip install . && rm -rf build *.egg-info

# Read from the working directory at run time: alembic.ini points at models/migrations (copied
# above); Flower loads flowerconfig.py (basic auth from FLOWER_USER / FLOWER_PASSWORD).
COPY alembic.ini flowerconfig.py ./

USER bobbin
EXPOSE 5555 8800 8801 8802
# The image alone runs one worker consuming every queue (worker/routes.py); docker-compose.yml runs
# one per queue group (-Q) instead.
CMD ["celery", "-A", "worker", "worker", "--loglevel=INFO", "-E"]
