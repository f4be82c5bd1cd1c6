# Reading notes with live distillation demos: CPU-only image, non-root, notes and data
# as volumes, settings by environment variables (see README).
ARG PYTHON_IMAGE=python:3.11-slim

# torch alone, in a venv of its own: one layer that both images copy unchanged, so the
# one-machine image and EXTRAS=scale share it (on disk, in a registry, in the cache).
FROM ${PYTHON_IMAGE} AS torch
# PyPI's default torch wheel for Linux is a multi-GB CUDA build; the CPU index keeps
# the image small. To build from a local mirror, set TORCH_INDEX_URL="" (torch then
# comes from wherever PIP_EXTRA_ARGS points pip: --find-links, --index-url...).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_EXTRA_ARGS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install $PIP_EXTRA_ARGS \
        ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0"

# The image. Its settings come first, while the filesystem is small: each step after
# torch's layer is a copy of a gigabyte where Docker stores layers without overlayfs.
FROM ${PYTHON_IMAGE}
RUN useradd --create-home --uid 10001 kd && mkdir -p /data && chown kd:kd /data
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1 \
    NOTES_DIR=/srv/notes \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /srv
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"
CMD ["python", "-m", "app", "serve"]
# EXTRAS=scale adds psycopg and ray: the image then serves as a web replica, a Ray
# head or a Ray worker of deploy/compose.yaml. Empty: the one-machine image.
ARG PIP_EXTRA_ARGS=""
ARG EXTRAS=""
COPY --from=torch /opt/venv /opt/venv
# pyproject.toml, README.md, app/, templates/, static/, notes/ (.dockerignore keeps
# the rest out). The other dependencies go in a layer on top of torch's, the only
# one that differs between the images. Editable, so templates/, static/ and notes/
# beside app/ are found at run time.
COPY . ./
RUN pip install $PIP_EXTRA_ARGS -e ".${EXTRAS:+[$EXTRAS]}"
VOLUME ["/srv/notes", "/data"]
USER kd
