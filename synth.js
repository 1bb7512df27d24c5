#!/usr/bin/env node
/**
 * The fast way to run main.ts: one esbuild bundle, run by plain node with V8's compiled code
 * cached beside it. No type-checking and no TypeScript loader at run time (help/performance.md).
 *   node synth.js [--config prefect-ecs-worker.json] [--out cdktf.out]
 *
 * The bundle (.build/main.js) is rebuilt when main.ts or any source it imports changed (their
 * sizes and modification times are recorded at build time), when this file changed, and after
 * `npm ci`/`npm install` (node_modules/.package-lock.json). Type errors are `npm run typecheck`'s
 * business, as with tsx.
 */
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");

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
  for (const stale of fs.readdirSync(BUILD_DIR).filter((name) => name.endsWith(".v8cache"))) fs.rmSync(path.join(BUILD_DIR, stale), { force: true });
  writeAtomically(INPUTS, `${JSON.stringify(fingerprint([...sources, ...BUILD_INPUTS].sort()), null, 1)}\n`);
}

const hash = (text) => createHash("sha1").update(text).digest("hex");

/**
 * Runs the bundle as a CommonJS module, with V8's code cache: compiling the 3 MB bundle
 * costs more than synthesizing the default configuration. V8 checks a cache only against
 * the source's length, so each cache file is named after a hash of the code it belongs to;
 * and V8 rejects a cache made under other flags (cdktf synth sets NODE_OPTIONS), so the
 * name also carries the Node version and flags: each way of running keeps its own cache.
 */
function run() {
  const code = fs.readFileSync(BUNDLE, "utf8");
  const flags = [process.version, ...process.execArgv, process.env.NODE_OPTIONS ?? ""].join("\n");
  const cacheFile = path.join(BUILD_DIR, `main.${hash(code).slice(0, 16)}.${hash(flags).slice(0, 8)}.v8cache`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(code), { filename: BUNDLE, cachedData });
  const bundle = new Module(BUNDLE, module);
  bundle.filename = BUNDLE;
  bundle.paths = Module._nodeModulePaths(BUILD_DIR);
  script.runInThisContext()(bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, BUILD_DIR);
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run, so the cache holds the functions synthesis compiled, not only the top level.
    // A cache only saves time: a folder that cannot take it must not fail the synthesis.
    try {
      writeAtomically(cacheFile, script.createCachedData());
    } catch {
      // Next run compiles again.
    }
  }
}

if (!isFresh()) build();
run();
