import { Fn, Token } from "cdktf";

/**
 * The guide's prefect.yaml, corrected: valid indentation, the entrypoint
 * matching `my_flow.py`, the full ECR image name (so the push reaches ECR)
 * and the real pool name. Strings are emitted as JSON, which YAML reads as
 * double-quoted scalars, so any pool name stays one string.
 */
export interface PrefectYamlProps {
  readonly workPoolName: string;
  /** Full image name, e.g. `<account>.dkr.ecr.<region>.amazonaws.com/<repo>` (may be a Terraform reference). */
  readonly imageName: string;
  /**
   * The repository rejects pushing a tag twice: build with prefect-docker's
   * default tag (a new timestamp each build) instead of `latest`.
   * @default false
   */
  readonly immutableTags?: boolean;
}

export function renderPrefectYaml(props: PrefectYamlProps): string {
  // A Terraform reference (the module's work_pool_name) is quoted by Terraform, at apply time.
  const q = (value: string) => (Token.isUnresolved(value) ? Fn.jsonencode(value) : JSON.stringify(value));
  return [
    "name: ecs-worker-guide",
    "",
    "pull:",
    "- prefect.deployments.steps.set_working_directory:",
    "    directory: /opt/prefect/ecs-worker-guide",
    "",
    "build:",
    "- prefect_docker.deployments.steps.build_docker_image:",
    "    id: build_image",
    "    requires: prefect-docker>=0.3.1",
    `    image_name: ${props.imageName}`,
    ...(props.immutableTags ? ["    # no tag: prefect-docker tags each build with a timestamp (the repository's tags are immutable)"] : ["    tag: latest"]),
    "    dockerfile: auto",
    "",
    "push:",
    "- prefect_docker.deployments.steps.push_docker_image:",
    "    requires: prefect-docker>=0.3.1",
    "    image_name: '{{ build_image.image_name }}'",
    "    tag: '{{ build_image.tag }}'",
    "",
    "deployments:",
    "- name: my_ecs_deployment",
    "  version:",
    "  tags: []",
    "  description:",
    "  entrypoint: my_flow.py:my_flow",
    "  parameters: {}",
    "  work_pool:",
    `    name: ${q(props.workPoolName)}`,
    "    work_queue_name:",
    "    job_variables:",
    "      image: '{{ build_image.image }}'",
    "  schedules: []",
    "",
  ].join("\n");
}
