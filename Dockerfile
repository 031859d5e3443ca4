FROM python:3.11-slim
WORKDIR /srv/learnflow
# Production unless told otherwise: the server then refuses to start without a real JWT_SECRET (it
# listens on 0.0.0.0, where the published development secret would let anyone sign admin tokens).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LEARNFLOW_ENV=production
COPY pyproject.toml README.md ./
COPY app ./app
COPY realtime ./realtime
COPY workers ./workers
# /srv/media belongs to the app user, so a named volume mounted there starts out writable by it.
RUN pip install --no-cache-dir . && useradd --system learnflow \
    && mkdir -p /srv/media && chown learnflow /srv/media
USER learnflow
EXPOSE 8000
CMD ["learnflow", "serve", "--host", "0.0.0.0"]
