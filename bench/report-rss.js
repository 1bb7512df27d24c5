/**
 * Preloaded (NODE_OPTIONS=--require) into every Node process of a measured
 * command when GNU time is missing: appends the process's peak RSS (KiB) to
 * BENCH_RSS_FILE on exit.
 */
"use strict";
const { appendFileSync } = require("node:fs");

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    try {
      appendFileSync(file, `${process.resourceUsage().maxRSS}\n`);
    } catch {
      // The measurement must never change the measured command's outcome.
    }
  });
}
