# Stand-in for python:3.11-slim where Docker Hub can't be reached: Debian bookworm's
# own Python 3.11, with `python` on PATH and `python -m venv` bringing pip, as the
# official image has them.
FROM kd-standin/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3.11 python3.11-venv python-is-python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* /usr/share/doc/* /usr/share/man/*
ENV LANG=C.UTF-8
CMD ["python3"]
# The host's CA bundle (tests/support/standins.py copies it into the build context):
# where HTTPS to the package registries passes through a proxy that re-signs it, pip
# inside the build must trust what the host trusts.
COPY host-ca.crt /etc/ssl/certs/host-ca.crt
ENV PIP_CERT=/etc/ssl/certs/host-ca.crt
