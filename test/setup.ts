// Preloaded by bunfig.toml for every test file: tests run as APP_ENV=test unless a test says otherwise.
process.env.APP_ENV ??= "test";
process.env.LOG_LEVEL ??= "error";
