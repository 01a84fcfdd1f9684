# Keep only production dependencies, as the daemonless image does (deploy/image/deps.ts):
# the generator prunes devDependencies only when there is a build script, and we have none.
RUN rm -rf node_modules && \
    bun install --ci --production
