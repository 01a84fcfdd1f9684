# Run as the non-root user `bun` (uid 1000, created by the oven/bun image). Fly mounts the volume
# at /app/media owned by the image's USER, and /health checks that MEDIA_DIR is writable.
# The daemonless image (deploy/image) ships the same: every /app file owned by 1000:1000.
RUN mkdir -p /app/media && \
    chown bun:bun /app /app/media
USER bun
