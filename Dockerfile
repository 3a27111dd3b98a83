# One image for every process of the assistant: the Rasa server, the action server,
# the leads server and the statistics consumer (docker-compose.yml and deploy/helm/
# choose the command). The model is trained while the image is built.
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONPATH=/app

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
RUN rasa train --fixed-model-name lead-assistant --out models \
    && useradd --create-home --uid 1001 assistant \
    && mkdir -p var logs && chown -R assistant var logs

USER 1001
# Rasa's official Helm chart runs the image's entry point with "run" and its options.
ENTRYPOINT ["rasa"]
CMD ["run", "--model", "models/lead-assistant.tar.gz", "--enable-api", "--port", "5005", "--credentials", "credentials.yml"]
EXPOSE 5005 5055 5077
