import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { attachInlinePolicy } from "./iam-policy";
import { ssmParameterArn } from "./ssm-parameter-arn";

export interface ContainerSecretsProps {
  /** Environment variable name → Secrets Manager secret ARN, SSM parameter ARN or SSM parameter name. */
  readonly secrets: Readonly<Record<string, string>>;
  /** The role ECS reads them with: the task execution role. */
  readonly executionRole: IamRole;
  readonly partition: string;
  readonly region: string;
}

/**
 * Extra secret environment variables of the worker container, by reference (worker.secrets): ECS
 * reads each with `valueFrom` when the task starts, so no value is in the configuration, the
 * task definition or state. The execution role may read exactly these, in a policy of its own.
 */
export class ContainerSecrets extends Construct {
  /** The container's `secrets` entries, sorted by name. */
  public readonly entries: { readonly name: string; readonly valueFrom: string }[];
  /** Undefined when there are none. */
  public readonly policy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: ContainerSecretsProps) {
    super(scope, id);
    this.entries = Object.keys(props.secrets)
      .sort()
      .map((name) => {
        const reference = props.secrets[name];
        const valueFrom = reference.startsWith("arn:") ? reference : ssmParameterArn(this, props.partition, props.region, reference);
        return { name, valueFrom };
      });
    const arnsOf = (service: string) => [...new Set(this.entries.map((e) => e.valueFrom).filter((arn) => arn.split(":")[2] === service))];
    const statements: DataAwsIamPolicyDocumentStatement[] = [];
    const secretArns = arnsOf("secretsmanager");
    if (secretArns.length > 0) statements.push({ sid: "ReadWorkerSecrets", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: secretArns });
    const parameterArns = arnsOf("ssm");
    if (parameterArns.length > 0) statements.push({ sid: "ReadWorkerParameters", effect: "Allow", actions: ["ssm:GetParameters"], resources: parameterArns });
    if (statements.length > 0) {
      this.policy = attachInlinePolicy(this, props.executionRole, "PrefectECSWorkerContainerSecrets", "execution_role_container_secrets", statements);
    }
  }
}
