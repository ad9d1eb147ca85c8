# The hub in a container: same pinned dependencies as `make run`, CPU-only torch.
FROM python:3.11-slim
WORKDIR /app
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HUB_HOME=/data HUB_HOST=0.0.0.0
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir --no-deps --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock
COPY hub hub
COPY ingest ingest
COPY search search
COPY practices practices
COPY web web
COPY scripts scripts
# Tesseract with English, French and Spanish data reads scanned PDF pages (ingest/ocr.py).
RUN bash scripts/install_ocr.sh && rm -rf /var/lib/apt/lists/*
COPY library library
RUN pip install --no-cache-dir --no-deps .
# The models' unpacked copies in the image, so that no container's first start makes them
# (hub/prepare.py).
ENV HUB_MODEL_CACHE=/opt/hub-model-cache
RUN hub prepare
VOLUME /data
EXPOSE 8000
CMD ["hub", "serve", "--seed", "library"]
