/**
 * A local state file of the AWS stack holding only its outputs, as an apply
 * would leave them: what the work-pool stack's terraform_remote_state reads.
 */
export function awsOutputsState(outputs: Record<string, unknown>): string {
  const typeOf = (value: unknown): unknown =>
    Array.isArray(value) ? ["list", "string"] : typeof value === "boolean" ? "bool" : "string";
  return JSON.stringify({
    version: 4,
    terraform_version: "1.11.4",
    serial: 1,
    lineage: "00000000-0000-0000-0000-000000000000",
    outputs: Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, { value, type: typeOf(value) }])),
    resources: [],
    check_results: null,
  });
}

/** Outputs the AWS stack's apply would leave for the default pool in us-east-1; `overrides` replaces any of them. */
export function exampleAwsOutputs(apiUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    prefect_api_url: apiUrl,
    cluster_arn: `arn:aws:ecs:us-east-1:123456789012:cluster/my-ecs-cluster`,
    vpc_id: "vpc-12345678",
    subnet_ids: ["subnet-12345678", "subnet-87654321"],
    security_group_ids: ["sg-12345678"],
    assign_public_ip: true,
    execution_role_arn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    flow_run_execution_role_arn: "arn:aws:iam::123456789012:role/PrefectECSRunnerExecutionRole",
    flow_run_task_role_arn: "arn:aws:iam::123456789012:role/PrefectECSRunnerTaskRole",
    secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:PrefectECSWorkerAPIKey-AbCdEf",
    flow_run_log_group_name: "/ecs/prefect-flow-runs/my-ecs-pool",
    ...overrides,
  };
}
