#!/usr/bin/env node
/**
 * The fast way to run main.ts: one esbuild bundle, run by plain node. No type-checking and no
 * TypeScript loader at run time (help/performance.md).
 *   node synth.js [--config FILE] [--out DIR]   (node synth.js --help for the rest)
 *
 * The bundle (.build/main.js) is rebuilt when main.ts or any source it imports changed (their
 * sizes and modification times are recorded at build time), when this file changed, and after
 * `npm ci`/`npm install` (node_modules/.package-lock.json). Type errors are `npm run typecheck`'s
 * business, as with tsx.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = __dirname;
const BUILD_DIR = path.join(ROOT, ".build");
const BUNDLE = path.join(BUILD_DIR, "main.js");
const INPUTS = path.join(BUILD_DIR, "main.inputs.json");
const ENTRY = "main.ts";
/** Files the bundled code opens beside itself (`join(__dirname, ...)`): copied next to the bundle. */
const BESIDE_BUNDLE = ["src/work-pool/upsert-work-pool.sh"];
/** Besides the bundled sources: what else decides the bundle's content. */
const BUILD_INPUTS = ["synth.js", "tsconfig.json", "package.json", "node_modules/.package-lock.json", ...BESIDE_BUNDLE];

/** Size and modification time of each file, or null when one is missing. */
function fingerprint(files) {
  const result = {};
  for (const file of files) {
    try {
      const stat = fs.statSync(path.join(ROOT, file));
      result[file] = [stat.size, stat.mtimeMs];
    } catch {
      result[file] = null;
    }
  }
  return result;
}

function isFresh() {
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(INPUTS, "utf8"));
    fs.accessSync(BUNDLE);
  } catch {
    return false;
  }
  const now = fingerprint(Object.keys(recorded));
  return Object.entries(recorded).every(([file, value]) => JSON.stringify(now[file]) === JSON.stringify(value));
}

/** Writes `content` to `file` through a rename, so a concurrent run never reads half a file. */
function writeAtomically(file, content) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, content);
  fs.renameSync(temporary, file);
}

function build() {
  // Loaded only when a build is needed: it costs more than the rest of a warm run.
  let buildSync;
  try {
    ({ buildSync } = require("esbuild"));
  } catch {
    console.error("synth.js: esbuild is not installed here; run `npm ci` first");
    process.exit(1);
  }
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  let result;
  try {
    result = buildSync({
      absWorkingDir: ROOT,
      entryPoints: [ENTRY],
      bundle: true,
      platform: "node",
      target: "node20",
      write: false,
      outfile: BUNDLE,
      metafile: true,
      logLevel: "silent",
    });
  } catch (error) {
    const messages = (error.errors ?? []).map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text));
    console.error(`synth.js: cannot bundle ${ENTRY}:\n${messages.length > 0 ? messages.join("\n") : error.message}`);
    process.exit(1);
  }
  const sources = Object.keys(result.metafile.inputs).filter((file) => !file.split("/").includes("node_modules"));
  // Inputs first, so a build interrupted half-way is found stale next time.
  fs.rmSync(INPUTS, { force: true });
  for (const file of BESIDE_BUNDLE) fs.copyFileSync(path.join(ROOT, file), path.join(BUILD_DIR, path.basename(file)));
  writeAtomically(BUNDLE, result.outputFiles[0].contents);
  writeAtomically(INPUTS, `${JSON.stringify(fingerprint([...sources, ...BUILD_INPUTS].sort()), null, 1)}\n`);
}

/** Runs the bundle as an ordinary CommonJS module. */
function run() {
  require(BUNDLE);
}

if (!isFresh()) build();
run();
