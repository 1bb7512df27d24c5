/**
 * The architecture picture of the synthesized Terraform: a Mermaid flowchart
 * drawn from the cdk.tf.json files themselves, so it shows what Terraform
 * gets, not what the constructs intend. One subgraph per stack, one node per
 * resource, data source and local, an edge for every reference, and dotted
 * edges from a `terraform_remote_state` data source to the outputs it reads
 * in the other stack.
 *
 * help/architecture.md is written by scripts/generate-architecture.ts
 * (npm run docs:architecture); __tests__/architecture.test.ts fails when it
 * is stale.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../app";
import { resolveConfig } from "../config/resolve";

/** The parts of a parsed cdk.tf.json the picture reads. */
export interface TerraformJsonLike {
  readonly resource?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly data?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly locals?: Readonly<Record<string, unknown>>;
  readonly output?: Readonly<Record<string, unknown>>;
}

export type ArchitectureNodeKind = "resource" | "data" | "local" | "output";

export interface ArchitectureNode {
  /** Mermaid node ID, unique in the whole picture. */
  readonly id: string;
  readonly stack: string;
  readonly kind: ArchitectureNodeKind;
  /** Terraform address: `type.name`, `data.type.name`, `local.name` or `output.name`. */
  readonly address: string;
}

export interface ArchitectureEdge {
  /** The node whose attributes hold the reference. */
  readonly from: ArchitectureNode;
  /** The node referenced. */
  readonly to: ArchitectureNode;
  /** A terraform_remote_state data source reading another stack's output. */
  readonly crossStack: boolean;
}

export interface ArchitectureGraph {
  /** Stacks in name order, each with its nodes in kind, then address order. */
  readonly stacks: readonly { readonly name: string; readonly nodes: readonly ArchitectureNode[] }[];
  /** Edges in (from, to) order. */
  readonly edges: readonly ArchitectureEdge[];
}

const KIND_ORDER: readonly ArchitectureNodeKind[] = ["resource", "data", "local", "output"];
const REMOTE_STATE_TYPE = "terraform_remote_state";
const IDENTIFIER = "[A-Za-z_][A-Za-z0-9_-]*";
/** `data.type.name`, `local.name` or `type.name`, not preceded by part of another traversal. */
const REFERENCE = new RegExp(`(?<![A-Za-z0-9_.-])(?:data\\.${IDENTIFIER}\\.${IDENTIFIER}|local\\.${IDENTIFIER}|${IDENTIFIER}\\.${IDENTIFIER})`, "g");
const REMOTE_OUTPUT = new RegExp(`(?<![A-Za-z0-9_.-])data\\.${REMOTE_STATE_TYPE}\\.(${IDENTIFIER})\\.outputs\\.(${IDENTIFIER})`, "g");

/** The graph of the given stacks (stack name → parsed cdk.tf.json). */
export function architectureGraph(stacks: Readonly<Record<string, TerraformJsonLike>>): ArchitectureGraph {
  const stackNames = Object.keys(stacks).sort();
  const ids = new Set<string>();
  const nodes = new Map<string, Map<string, ArchitectureNode>>(stackNames.map((name) => [name, new Map()]));
  const node = (stack: string, kind: ArchitectureNodeKind, address: string): ArchitectureNode => {
    const byAddress = nodes.get(stack) as Map<string, ArchitectureNode>;
    const existing = byAddress.get(address);
    if (existing) return existing;
    const created = { id: uniqueId(`s${stackNames.indexOf(stack)}_${address}`, ids), stack, kind, address };
    byAddress.set(address, created);
    return created;
  };
  const edges = new Map<string, ArchitectureEdge>();
  const edge = (from: ArchitectureNode, to: ArchitectureNode, crossStack = false) => {
    if (from !== to) edges.set(`${from.id} ${to.id}`, { from, to, crossStack });
  };

  // Every block that can hold references, by stack: resources, data sources, locals.
  const bodies = new Map<string, [ArchitectureNode, unknown][]>();
  for (const stack of stackNames) {
    const json = stacks[stack];
    const blocks: [ArchitectureNode, unknown][] = [];
    for (const [type, byName] of sortedEntries(json.resource)) {
      for (const [name, body] of sortedEntries(byName)) blocks.push([node(stack, "resource", `${type}.${name}`), body]);
    }
    for (const [type, byName] of sortedEntries(json.data)) {
      for (const [name, body] of sortedEntries(byName)) blocks.push([node(stack, "data", `data.${type}.${name}`), body]);
    }
    for (const [name, value] of sortedEntries(json.locals)) blocks.push([node(stack, "local", `local.${name}`), value]);
    bodies.set(stack, blocks);
  }

  const referencesIn = (stack: string, value: unknown): ArchitectureNode[] => {
    const known = nodes.get(stack) as Map<string, ArchitectureNode>;
    const found = expressionsIn(value).flatMap((expression) => [...expression.matchAll(REFERENCE)].map((match) => match[0]));
    return found.flatMap((address) => {
      const target = known.get(address);
      return target && target.kind !== "output" ? [target] : [];
    });
  };

  for (const stack of stackNames) {
    for (const [from, body] of bodies.get(stack) as [ArchitectureNode, unknown][]) {
      for (const to of referencesIn(stack, body)) edge(from, to);
    }
  }

  // Across stacks: a remote state data source → each output of the producing stack that this stack reads.
  for (const consumer of stackNames) {
    const remoteStates = stacks[consumer].data?.[REMOTE_STATE_TYPE] ?? {};
    const read = new Map<string, Set<string>>();
    for (const expression of (bodies.get(consumer) as [ArchitectureNode, unknown][]).flatMap(([, body]) => expressionsIn(body))) {
      for (const [, stateName, output] of expression.matchAll(REMOTE_OUTPUT)) {
        if (!read.has(stateName)) read.set(stateName, new Set());
        read.get(stateName)?.add(output);
      }
    }
    for (const [stateName, body] of sortedEntries(remoteStates)) {
      const producer = producerStack(body, consumer, stackNames);
      if (producer === undefined) continue;
      const from = node(consumer, "data", `data.${REMOTE_STATE_TYPE}.${stateName}`);
      const outputs = stacks[producer].output ?? {};
      for (const output of [...(read.get(stateName) ?? [])].sort()) {
        if (!Object.prototype.hasOwnProperty.call(outputs, output)) continue;
        const to = node(producer, "output", `output.${output}`);
        edge(from, to, true);
        const value = (outputs[output] as { value?: unknown } | undefined)?.value;
        for (const target of referencesIn(producer, value)) edge(to, target);
      }
    }
  }

  const byKindThenAddress = (a: ArchitectureNode, b: ArchitectureNode) =>
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compare(a.address, b.address);
  return {
    stacks: stackNames.map((name) => ({ name, nodes: [...(nodes.get(name) as Map<string, ArchitectureNode>).values()].sort(byKindThenAddress) })),
    edges: [...edges.values()].sort((a, b) => compare(a.from.id, b.from.id) || compare(a.to.id, b.to.id)),
  };
}

/** The Mermaid flowchart of the given stacks (stack name → parsed cdk.tf.json). */
export function architectureMermaid(stacks: Readonly<Record<string, TerraformJsonLike>>): string {
  const graph = architectureGraph(stacks);
  const shape: Record<ArchitectureNodeKind, (label: string) => string> = {
    resource: (label) => `["${label}"]`,
    data: (label) => `[("${label}")]`,
    local: (label) => `(["${label}"])`,
    output: (label) => `{{"${label}"}}`,
  };
  const lines = ["flowchart LR"];
  graph.stacks.forEach((stack, index) => {
    lines.push(`  subgraph stack_${index}["${stack.name}"]`);
    for (const concern of CONCERNS) {
      const members = stack.nodes.filter((n) => concernOf(n) === concern.name);
      if (members.length === 0) continue;
      lines.push(`    subgraph stack_${index}_${concern.name}["${concern.label}"]`);
      for (const n of members) lines.push(`      ${n.id}${shape[n.kind](n.address)}`);
      lines.push("    end");
    }
    lines.push("  end");
  });
  for (const e of graph.edges) lines.push(`  ${e.from.id} ${e.crossStack ? "-.->" : "-->"} ${e.to.id}`);
  return lines.join("\n") + "\n";
}

/** The concerns the resource graph is grouped by, in drawing order, and the Terraform types of each. */
export const CONCERNS: readonly { readonly name: string; readonly label: string; readonly types: RegExp }[] = [
  { name: "prefect", label: "Prefect work pool", types: /^terraform_data$/ },
  { name: "compute", label: "ECS: cluster, worker service", types: /^aws_ecs_/ },
  { name: "iam", label: "IAM roles and policies", types: /^aws_iam_/ },
  { name: "events", label: "Task events: EventBridge, SQS", types: /^aws_(cloudwatch_event_|sqs_)/ },
  { name: "secret", label: "API credential", types: /^aws_(secretsmanager_|ssm_|kms_)/ },
  { name: "logs", label: "Logs", types: /^aws_cloudwatch_log_/ },
  { name: "images", label: "Flow images (ECR)", types: /^aws_ecr_/ },
  { name: "network", label: "Network", types: /^aws_(vpc|subnets?|security_group|vpc_security_group_)/ },
  { name: "context", label: "Account, region, locals, other stacks", types: /.*/ },
];

/** The concern a node belongs to, by its Terraform type (locals and outputs: by what they are about). */
export function concernOf(node: ArchitectureNode): string {
  const type = node.kind === "data" ? node.address.split(".")[1] : node.kind === "resource" ? node.address.split(".")[0] : "";
  return (CONCERNS.find((concern) => concern.types.test(type)) ?? CONCERNS[CONCERNS.length - 1]).name;
}

/** Reads every stack of a cdktf output folder: stack name → parsed cdk.tf.json. */
export function readSynthesizedStacks(outdir: string): Record<string, TerraformJsonLike> {
  const stacksDir = join(outdir, "stacks");
  const stacks: Record<string, TerraformJsonLike> = {};
  for (const name of readdirSync(stacksDir).sort()) {
    stacks[name] = JSON.parse(readFileSync(join(stacksDir, name, "cdk.tf.json"), "utf8")) as TerraformJsonLike;
  }
  return stacks;
}

/** Synthesizes the default configuration (the guide's names) into a temporary folder and reads its stacks. */
export function synthesizeDefaultStacks(): Record<string, TerraformJsonLike> {
  const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-architecture-"));
  try {
    buildApp(resolveConfig({}), outdir).app.synth();
    return readSynthesizedStacks(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export const ARCHITECTURE_DOC_FILE = "help/architecture.md";
/** The run-time SVG, relative to the doc (written beside it: RUNTIME_ARCHITECTURE_SVG_FILE). */
const RUNTIME_SVG_LINK = "architecture-runtime.svg";

/** help/architecture.md for the given stacks. */
export function renderArchitectureDoc(stacks: Readonly<Record<string, TerraformJsonLike>>): string {
  const graph = architectureGraph(stacks);
  const count = (nodes: readonly ArchitectureNode[], kind: ArchitectureNodeKind) => nodes.filter((n) => n.kind === kind).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const stackLines = graph.stacks.map(
    ({ name, nodes }) =>
      `- \`${name}\`: ${plural(count(nodes, "resource"), "resource")}, ${plural(count(nodes, "data"), "data source")}, ` +
      `${plural(count(nodes, "local"), "local")}` +
      (count(nodes, "output") > 0 ? `, ${plural(count(nodes, "output"), "output")} read by another stack` : "") +
      ".",
  );
  return [
    "<!-- generated by scripts/generate-architecture.ts — do not edit; run `npm run docs:architecture` -->",
    "",
    "# Architecture",
    "",
    "_Generated by `scripts/generate-architecture.ts` from the default configuration (the guide's names, no",
    "configuration file) — do not edit. `npm run docs:architecture` regenerates it; a test fails when it is stale._",
    "",
    "## How it works at run time",
    "",
    `![The pieces at run time](${RUNTIME_SVG_LINK})`,
    "",
    "Dashed grey arrows are set up once by `terraform apply`: the AWS stack creates the AWS resources, and the",
    "work-pool stack, reading the AWS stack's outputs, creates or updates the work pool through the Prefect API with",
    "the cluster, network, roles and secret as its defaults. At run time the worker service polls the pool; for each",
    "scheduled flow run it registers a task definition and calls RunTask with those defaults. ECS reports every",
    "task state change to EventBridge, whose rule sends it to the SQS queue that the worker's observer reads (messages",
    "that keep failing move to the dead-letter queue). Worker and flow runs receive the Prefect credential from the",
    "secret by `valueFrom` and write their logs to CloudWatch; flow runs pull their image from ECR.",
    "",
    "## What the default configuration synthesizes",
    "",
    "Each box is a stack folder under `cdktf.out/stacks/`. Each node is a Terraform address as it appears in the",
    "synthesized JSON, grouped by concern: rectangles are resources, cylinders data sources, rounded boxes locals, hexagons the outputs",
    "another stack reads. An arrow `A → B` means that A's attributes reference B (an expression such as",
    "`${aws_iam_role.execution_role.arn}`, or `depends_on`), so Terraform creates or reads B first. The dotted",
    "arrows cross stacks: the work-pool stack's `data.terraform_remote_state.aws_stack` reads those outputs from the",
    "AWS stack's state, which is why the AWS stack is applied first. Terraform variables and the other outputs are",
    "left out.",
    "",
    ...stackLines,
    "",
    "Other configurations change the picture: an existing cluster, SSM, an existing secret, your own network, no",
    "flow-run task role or ECR repository each add or remove nodes (see [guide-mapping.md](guide-mapping.md)), and",
    "with `workPool.manage: false` there is no work-pool stack.",
    "",
    "```mermaid",
    architectureMermaid(stacks).trimEnd(),
    "```",
    "",
  ].join("\n");
}

/** help/architecture.md as the generator writes it now. */
export function defaultArchitectureDoc(): string {
  return renderArchitectureDoc(synthesizeDefaultStacks());
}

/**
 * The text of every `${...}` (and `%{...}`) sequence in a value, recursively,
 * skipping cdktf's `//` metadata; `depends_on` entries are bare addresses.
 */
function expressionsIn(value: unknown, key?: string): string[] {
  if (typeof value === "string") return key === "depends_on" ? [value] : templateSequences(value);
  if (Array.isArray(value)) return value.flatMap((item) => expressionsIn(item, key));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => (k === "//" ? [] : expressionsIn(v, k)));
  }
  return [];
}

/** The interpolations and directives of a Terraform template string (`$${` and `%%{` are escapes). */
function templateSequences(text: string): string[] {
  const sequences: string[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.slice(i).search(/[$%]\{/);
    if (start < 0) break;
    const open = i + start;
    if (open > 0 && text[open - 1] === text[open]) {
      i = open + 2; // escaped
      continue;
    }
    let depth = 1;
    let close = open + 2;
    for (; close < text.length && depth > 0; close++) {
      if (text[close] === "{") depth++;
      else if (text[close] === "}") depth--;
    }
    sequences.push(text.slice(open + 2, depth === 0 ? close - 1 : close));
    i = close;
  }
  return sequences;
}

/**
 * The stack whose state a terraform_remote_state data source reads: the folder of a
 * `.../<stack>/terraform.tfstate` path or key (local, s3), or the stack a workspace
 * name ends with (remote: `{workspacePrefix}{stack}`).
 */
function producerStack(body: unknown, consumer: string, stackNames: readonly string[]): string | undefined {
  const others = stackNames.filter((name) => name !== consumer);
  const config = ((body as { config?: Record<string, unknown> } | undefined)?.config ?? {}) as {
    path?: unknown;
    key?: unknown;
    workspaces?: { name?: unknown };
  };
  for (const location of [config.path, config.key]) {
    if (typeof location !== "string") continue;
    const segments = location.split(/[\\/]/);
    const folder = segments[segments.length - 2];
    if (folder !== undefined && others.includes(folder)) return folder;
  }
  const workspace = config.workspaces?.name;
  if (typeof workspace === "string") {
    const matching = others.filter((name) => workspace.endsWith(name)).sort((a, b) => b.length - a.length);
    return matching[0];
  }
  return undefined;
}

/** A Mermaid-safe node ID from a stack prefix and an address, unique among `taken`. */
function uniqueId(raw: string, taken: Set<string>): string {
  const base = raw.replace(/\./g, "__").replace(/[^A-Za-z0-9_]/g, "_");
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

function sortedEntries<T>(record: Readonly<Record<string, T>> | undefined): [string, T][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => compare(a, b));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
