FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hubs_bridge ./hubs_bridge
RUN pip install --no-cache-dir .
COPY room_scenes ./room_scenes
COPY config ./config
RUN useradd --system --home /app bridge && mkdir -p /app/data && chown bridge /app/data
USER bridge
EXPOSE 8080
CMD ["hubs-bridge", "serve"]
