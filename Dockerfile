# syntax = docker/dockerfile:1

# Adjust BUN_VERSION as desired
ARG BUN_VERSION=1.4.5
FROM oven/bun:${BUN_VERSION}-slim AS base

LABEL fly_launch_runtime="Bun"

# Bun app lives here
WORKDIR /app

# Set production environment
ENV NODE_ENV="production"


# Throw-away build stage to reduce size of final image
FROM base AS build

# Install packages needed to build node modules
RUN apt-get update -qq && \
    apt-get install --no-install-recommends -y build-essential pkg-config python-is-python3

# Install node modules
COPY bun.lock package.json ./
RUN bun install --ci

# Copy application code
COPY . .

# Keep only production dependencies, as the daemonless image does (deploy/image/deps.ts):
# the generator prunes devDependencies only when there is a build script, and we have none.
RUN rm -rf node_modules && \
    bun install --ci --production


# Final stage for app image
FROM base

# Copy built application
COPY --from=build /app /app

# Run as the non-root user `bun` (uid 1000, created by the oven/bun image). Fly mounts the volume
# at /app/media owned by the image's USER, and /health checks that MEDIA_DIR is writable.
# The daemonless image (deploy/image) ships the same: every /app file owned by 1000:1000.
RUN mkdir -p /app/media && \
    chown bun:bun /app /app/media
USER bun

# Start the server by default, this can be overwritten at runtime
EXPOSE 3000
CMD [ "bun", "--smol", "src/server.ts" ]
