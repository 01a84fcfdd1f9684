// Preloaded by bunfig.toml for every test file: tests run as APP_ENV=test unless a test says otherwise.
process.env.APP_ENV ??= "test";
process.env.LOG_LEVEL ??= "error";
// The Fly client spaces calls under Fly's rate limits (lib/fly/rate-limit.ts); the instant fake keeps no clock, so
// tests run the limiter 1000x fast. Clock-mode tests pass the fake's own scale to the client or the CLI.
process.env.FLIGHTDECK_FLY_CLOCK_SCALE ??= "0.001";
