/**
 * The floor: Node starting, loading cdktf, writing one empty stack.
 *   node bench/floor.js <outdir>
 */
"use strict";
const { App, TerraformStack } = require("cdktf");

const app = new App({ outdir: process.argv[2] || "cdktf.out", stackTraces: false });
new TerraformStack(app, "floor");
app.synth();
