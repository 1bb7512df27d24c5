/**
 * The run-time picture of help/architecture.md: how the pieces work once applied (Prefect API ↔
 * worker service ↔ RunTask ↔ flow-run tasks; ECS task events → EventBridge → SQS → the worker's
 * observer; the secret, the logs, ECR; what the work-pool stack sets). A Graphviz graph whose
 * labels are the names a configuration resolves to, rendered to SVG by Graphviz itself (the
 * WebAssembly build @viz-js/viz, pinned in package.json, so every machine draws the same bytes).
 *
 * scripts/generate-architecture.ts writes help/architecture-runtime.svg; a test fails when it is stale.
 */
import { ResolvedConfig } from "../config/resolve";

export const RUNTIME_ARCHITECTURE_SVG_FILE = "help/architecture-runtime.svg";

/** A node of the picture: its Graphviz ID, the group (cluster) it sits in, and its label's lines. */
export interface RuntimeNode {
  readonly id: string;
  readonly group: RuntimeGroup;
  readonly lines: readonly string[];
  readonly shape?: "box" | "cylinder" | "note" | "component";
}

/** An arrow: what flows from one piece to another, in a few words. */
export interface RuntimeEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** Set up once by Terraform, rather than traffic at run time. */
  readonly setup?: boolean;
}

export type RuntimeGroup = "prefect" | "terraform" | "ecs" | "events" | "aws";

const GROUP_LABELS: Record<RuntimeGroup, string> = {
  prefect: "Prefect (Cloud or self-hosted)",
  terraform: "Terraform apply",
  ecs: "ECS cluster",
  events: "Task events",
  aws: "Account-wide AWS resources",
};

/** The pieces and arrows for a configuration; names are the ones its stacks create or use. */
export function runtimeArchitecture(config: ResolvedConfig): { nodes: RuntimeNode[]; edges: RuntimeEdge[] } {
  const pool = config.workPoolName;
  const nodes: RuntimeNode[] = [
    { id: "prefect_api", group: "prefect", lines: ["Prefect API", config.prefect.apiUrl ?? "PREFECT_API_URL"], shape: "component" },
    { id: "work_pool", group: "prefect", lines: [`work pool "${pool}"`, "type ecs, base job template", "with the AWS defaults"], shape: "note" },
    { id: "aws_stack", group: "terraform", lines: [`stack ${pool}-aws`, "creates the AWS resources"] },
    {
      id: "work_pool_stack",
      group: "terraform",
      lines: [`stack ${pool}-work-pool`, "upsert-work-pool.sh (sh + curl)", "reads the AWS stack's outputs"],
    },
    {
      id: "worker",
      group: "ecs",
      lines: [`service ${config.worker.serviceName}`, `Fargate, ${config.worker.desiredCount} task(s)`, `prefect worker start --pool ${pool} --type ecs`],
    },
    { id: "flow_runs", group: "ecs", lines: ["flow-run tasks", `family prefect_${pool}_<deployment>`] },
    { id: "rule", group: "events", lines: [`EventBridge rule ${config.eventsQueue.ruleName}`, "ECS Task State Change"] },
    { id: "queue", group: "events", lines: [`SQS ${config.eventsQueue.name}`], shape: "cylinder" },
    { id: "dead_letters", group: "events", lines: [`SQS ${config.eventsQueue.deadLetterQueueName}`], shape: "cylinder" },
    { id: "worker_logs", group: "aws", lines: ["CloudWatch Logs", config.logs.groupName], shape: "cylinder" },
  ];
  const edges: RuntimeEdge[] = [
    { from: "aws_stack", to: "worker", label: "task definition, service, roles", setup: true },
    { from: "aws_stack", to: "work_pool_stack", label: "outputs (state)", setup: true },
    { from: "work_pool_stack", to: "work_pool", label: "PATCH / POST /work_pools", setup: true },
    { from: "worker", to: "prefect_api", label: "polls the pool, reports" },
    { from: "prefect_api", to: "work_pool", label: "scheduled flow runs" },
    { from: "worker", to: "flow_runs", label: "RegisterTaskDefinition, RunTask" },
    { from: "flow_runs", to: "prefect_api", label: "states, logs" },
    { from: "flow_runs", to: "rule", label: "task state changes" },
    { from: "rule", to: "queue", label: "SendMessage" },

    { from: "queue", to: "worker", label: "observer: ReceiveMessage" },
    { from: "queue", to: "dead_letters", label: "after repeated failures" },
    { from: "worker", to: "worker_logs", label: "awslogs" },
  ];
  if (config.secret) {
    const store = config.secret.store === "ssm" ? "SSM parameter" : "Secrets Manager";
    const name = config.secret.name ?? config.secret.existingParameterName ?? config.secret.existingArn ?? "existing secret";
    nodes.push({ id: "secret", group: "aws", lines: [store, name, `(${config.secret.environmentName})`], shape: "cylinder" });
    edges.push({ from: "secret", to: "worker", label: "valueFrom, at task start" });
    edges.push({ from: "secret", to: "flow_runs", label: "valueFrom (pool default)" });
  }
  if (config.flowRunLogs.enabled) {
    nodes.push({ id: "flow_run_logs", group: "aws", lines: ["CloudWatch Logs", config.flowRunLogs.groupName], shape: "cylinder" });
    edges.push({ from: "flow_runs", to: "flow_run_logs", label: "awslogs" });
  }
  if (config.ecr.enabled) {
    nodes.push({ id: "images", group: "aws", lines: [`ECR ${config.ecr.repositoryName}`, "flow images"], shape: "cylinder" });
    edges.push({ from: "images", to: "flow_runs", label: "image pull" });
  }
  nodes.push({
    id: "roles",
    group: "aws",
    lines: [
      "IAM roles",
      `worker execution: ${config.roles.executionRoleName}`,
      `worker task: ${config.roles.workerTaskRoleName}`,
      ...(config.roles.flowRunExecutionRoleName ? [`flow-run execution: ${config.roles.flowRunExecutionRoleName}`] : []),
      ...(config.flowRunTaskRole.enabled ? [`flow-run task: ${config.flowRunTaskRole.name}`] : []),
    ],
    shape: "note",
  });
  edges.push({ from: "roles", to: "worker", label: "assumed by" });
  edges.push({ from: "roles", to: "flow_runs", label: "passed by the worker" });
  return { nodes, edges };
}

/** Graphviz DOT text of the picture, with the ECS cluster named after the configuration's. */
export function runtimeArchitectureDot(config: ResolvedConfig): string {
  const { nodes, edges } = runtimeArchitecture(config);
  const quote = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const label = (lines: readonly string[]) => quote(lines.join("\n")).replace(/\n/g, "\\n");
  const cluster = config.cluster.mode === "create" ? config.cluster.name : (config.cluster.name ?? config.cluster.arn ?? "(existing)");
  const groupLabel = (group: RuntimeGroup) => (group === "ecs" ? `ECS cluster ${cluster}` : GROUP_LABELS[group]);
  const lines = [
    "digraph runtime {",
    '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.55, newrank=true];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", fontname="Helvetica", fontsize=10, margin="0.2,0.06"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#445566"];',
  ];
  for (const group of Object.keys(GROUP_LABELS) as RuntimeGroup[]) {
    const members = nodes.filter((n) => n.group === group);
    if (members.length === 0) continue;
    lines.push(`  subgraph cluster_${group} {`, `    label=${quote(groupLabel(group))};`, '    style="rounded,dashed"; color="#8899aa";');
    for (const n of members) lines.push(`    ${n.id} [label=${label(n.lines)}${n.shape ? `, shape=${n.shape}` : ""}];`);
    lines.push("  }");
  }
  for (const e of edges) lines.push(`  ${e.from} -> ${e.to} [label=${quote(e.label)}${e.setup ? ', style=dashed, color="#8899aa"' : ""}];`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** The SVG Graphviz draws for the DOT text (loaded only here: the WebAssembly build is large). */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(dot, { format: "svg" });
}
