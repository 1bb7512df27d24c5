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
