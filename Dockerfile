# The stage image: Python, Java (Spark), git (DVC) and Angler with its dependencies. Airflow's
# KubernetesPodOperator, Argo Workflows and the serving pod's fetch-model init container run
# it. Everything is installed at build time; nothing is downloaded when a stage runs.
#   docker build -t ghcr.io/angler-ml/angler:0.1.0 .
#   docker build --build-arg EXTRAS=s3,gpu -t ghcr.io/angler-ml/angler:0.1.0-gpu .
FROM python:3.11-slim-bookworm

ARG EXTRAS="s3"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN apt-get update \
    && apt-get install --yes --no-install-recommends openjdk-17-jre-headless git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/angler
COPY pyproject.toml uv.lock README.md ./
COPY angler ./angler
# The locked versions (uv.lock), installed by the uv that pyproject.toml requires.
RUN uv_version=$(sed -n 's/^required-version = "==\([^"]*\)".*/\1/p' pyproject.toml) \
    && pip install --quiet --target /tmp/uv "uv==$uv_version" \
    && /tmp/uv/bin/uv sync --locked --no-editable ${EXTRAS:+--extra ${EXTRAS//,/ --extra }} \
    && rm -r /tmp/uv

# Non-root, with a writable home for tools' caches; tasks work in a checkout under /work.
RUN useradd --uid 10001 --create-home angler && mkdir /work && chown angler /work
USER 10001
WORKDIR /work
CMD ["angler", "--help"]
