import {
  DataAwsIamPolicyDocument,
  DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";

/**
 * Policies are `aws_iam_policy_document` data sources: valid JSON by
 * construction (the guide's secret-policy.json is not), readable in HCL, and
 * evaluated locally by the provider (no AWS call).
 */
export function policyDocument(
  scope: Construct,
  logicalId: string,
  statements: DataAwsIamPolicyDocumentStatement[],
): DataAwsIamPolicyDocument {
  const document = new DataAwsIamPolicyDocument(scope, `${logicalId}_document`, { statement: statements });
  document.overrideLogicalId(logicalId);
  return document;
}

export interface RoleProps {
  /** IAM role name. */
  readonly name: string;
  readonly description: string;
  /** The ECS tasks trust policy JSON. */
  readonly assumeRolePolicy: string;
  /** Terraform logical id of the role, e.g. `execution_role`. */
  readonly logicalId: string;
}

export function createRole(scope: Construct, props: RoleProps): IamRole {
  const role = new IamRole(scope, "role", {
    name: props.name,
    description: props.description,
    assumeRolePolicy: props.assumeRolePolicy,
  });
  role.overrideLogicalId(props.logicalId);
  return role;
}

/** An inline role policy (what the guide does with `put-role-policy`). */
export function attachInlinePolicy(
  scope: Construct,
  role: IamRole,
  policyName: string,
  logicalId: string,
  statements: DataAwsIamPolicyDocumentStatement[],
): IamRolePolicy {
  const document = policyDocument(scope, logicalId, statements);
  const policy = new IamRolePolicy(scope, logicalId, { name: policyName, role: role.name, policy: document.json });
  policy.overrideLogicalId(logicalId);
  return policy;
}

/** A customer-managed policy plus its attachment (what the guide does with `create-policy` + `attach-role-policy`). */
export function attachManagedPolicy(
  scope: Construct,
  role: IamRole,
  policyName: string,
  logicalId: string,
  statements: DataAwsIamPolicyDocumentStatement[],
): IamPolicy {
  const document = policyDocument(scope, logicalId, statements);
  const policy = new IamPolicy(scope, logicalId, { name: policyName, policy: document.json });
  policy.overrideLogicalId(logicalId);
  const attachment = new IamRolePolicyAttachment(scope, `${logicalId}_attachment`, {
    role: role.name,
    policyArn: policy.arn,
  });
  attachment.overrideLogicalId(`${logicalId}_attachment`);
  return policy;
}
