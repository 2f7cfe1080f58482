# syntax=docker/dockerfile:1
# Production image for the voucher portal: web (gunicorn), Celery worker and beat all run
# from this one image; docker-compose.yml picks the process with `command:`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# WeasyPrint's system libraries (Pango, HarfBuzz; fontconfig comes with them) and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system app \
    && useradd --system --gid app --create-home --home-dir /home/app app

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. pyproject.toml declares
# `packages = []`: `pip install .` installs the dependencies only, the code is copied below.
# Built in a scratch folder so no build/ or *.egg-info is left in /app.
COPY pyproject.toml /tmp/deps/pyproject.toml
RUN pip install --no-cache-dir /tmp/deps && rm -rf /tmp/deps

COPY . .

ENV DJANGO_SETTINGS_MODULE=config.settings.production

# Production settings insist on a secret key and allowed hosts: placeholders that exist only
# for this build step (they are not kept in the image's environment). Static files are
# served by WhiteNoise from /app/staticfiles.
RUN DJANGO_SECRET_KEY=collectstatic-build-only DJANGO_ALLOWED_HOSTS=localhost \
    STORAGE_BACKEND=local python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app

EXPOSE 8000

# Shell form for ${GUNICORN_WORKERS:-3}; `exec` makes gunicorn PID 1 so it gets SIGTERM.
CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers ${GUNICORN_WORKERS:-3} --access-logfile -"]
