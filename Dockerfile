# Descent: interactive lessons, each learner's code in its own sandboxed kernel.
#
#   docker build -t descent .                                  # CPU torch (the default)
#   docker build --build-arg TORCH_VARIANT=cu128 -t descent:cuda .
#   docker build --build-arg EXTRA_CA_CERTS="$(cat corp-root.pem)" -t descent .
#
# Run it with the options the sandbox needs (deploy/README.md says why each is needed):
#
#   docker run -d --name descent -p 8000:8000 -v descent-data:/data \
#     --security-opt seccomp=deploy/seccomp-userns.json \
#     --security-opt systempaths=unconfined \
#     --cap-drop ALL --security-opt no-new-privileges descent
#
# Without them the server still starts, names the missing sandbox layer on every page and in
# /healthz, and refuses to run learner code.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# --------------------------------------------------------------------------------------------
# Extra CA certificates, for networks that intercept TLS. Either or both:
#   --build-arg EXTRA_CA_CERTS="$(cat a.pem b.pem)"   PEM text (one or more certificates)
#   deploy/certs/*.crt or *.pem                        PEM files in the build context
# Both stages trust them: pip through PIP_CERT, npm through NODE_EXTRA_CA_CERTS.
FROM ${PYTHON_IMAGE} AS certs
ARG EXTRA_CA_CERTS=""
COPY deploy/ /tmp/deploy/
# Each certificate goes to a file of its own (update-ca-certificates hashes one per file).
RUN set -eu; \
    dest=/usr/local/share/ca-certificates/descent; \
    mkdir -p "$dest"; \
    { printf '%s\n' "$EXTRA_CA_CERTS"; \
      cat /tmp/deploy/certs/*.crt /tmp/deploy/certs/*.pem 2>/dev/null || true; } \
    | tr -d '\r' \
    | awk -v dest="$dest" ' \
        /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/extra-%03d.crt", dest, n) } \
        file { print > file } \
        /-----END CERTIFICATE-----/ { close(file); file = "" }'; \
    update-ca-certificates; \
    echo "extra CA certificates: $(ls "$dest" | wc -l)"; \
    rm -rf /tmp/deploy

# --------------------------------------------------------------------------------------------
# The front-end bundle (CodeMirror, KaTeX): static/build/.
FROM ${NODE_IMAGE} AS frontend
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/descent-ca-bundle.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/descent-ca-bundle.crt \
    npm_config_update_notifier=false
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build_frontend.mjs scripts/
COPY static/src/ static/src/
RUN node scripts/build_frontend.mjs

# --------------------------------------------------------------------------------------------
# The server.
FROM ${PYTHON_IMAGE} AS runtime

# bubblewrap and libseccomp are two of the sandbox's layers; tini reaps and forwards signals.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        bubblewrap libseccomp2 ca-certificates tini \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

COPY --from=certs /usr/local/share/ca-certificates/descent/ /usr/local/share/ca-certificates/descent/
RUN update-ca-certificates

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN python -m venv /opt/venv

# torch first, in its own layer: the largest download, and it changes least. Keep the version in
# step with pyproject.toml. TORCH_VARIANT picks the wheel index: cpu (the default), or a CUDA
# tag that download.pytorch.org publishes for this version (cu126, cu128, ...).
# TORCH_INDEX_URL replaces the whole index (a mirror).
ARG TORCH_VARIANT=cpu
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/${TORCH_VARIANT}
RUN pip install --index-url "$TORCH_INDEX_URL" "torch==2.13.0"

# The other dependencies, read from pyproject.toml, so that editing the code does not
# reinstall them.
WORKDIR /opt/descent
COPY pyproject.toml README.md ./
RUN grep -q '"torch==2.13.0"' pyproject.toml \
        || { echo "pyproject.toml pins another torch: update the Dockerfile's torch line" >&2; exit 1; } \
    && python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The app. It runs from this folder, which holds the lessons, templates and static files
# (app/config.py finds them beside the package), so it is installed in editable mode: the venv,
# which the sandbox binds read-only for every kernel, gets only a path to it, not a copy of the
# server's code.
COPY . .
COPY --from=frontend /src/static/build/ static/build/
# (a+rX: the server's user must read it, whatever the umask of the checkout it came from.)
RUN pip install --no-deps -e . \
    && python -m compileall -q app \
    && chmod -R a+rX /opt/descent

RUN printf '%s\n' \
        '#!/opt/venv/bin/python' \
        '"""Container health check: the server answers /healthz and runs learner code."""' \
        'import json, os, sys, urllib.request' \
        'url = "http://127.0.0.1:%s/healthz" % os.environ.get("DESCENT_PORT", "8000")' \
        'health = json.load(urllib.request.urlopen(url, timeout=4))' \
        'if health.get("sandbox") == "refused":' \
        '    sys.exit("sandbox refused, missing: " + ", ".join(health.get("missing_layers", [])))' \
        'print("ok, sandbox", health.get("sandbox"))' \
        > /usr/local/bin/descent-healthcheck \
    && chmod 0755 /usr/local/bin/descent-healthcheck

RUN groupadd --system --gid 10001 descent \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/descent --create-home \
        --shell /usr/sbin/nologin descent \
    && install -d -o 10001 -g 10001 -m 0750 /data

ENV DESCENT_HOST=0.0.0.0 \
    DESCENT_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
USER 10001:10001

# Healthy when the server answers and the sandbox is not refusing learner code; when it is, the
# check's output names the missing layer (deploy/README.md says which run option brings it back).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["descent-healthcheck"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "app"]
