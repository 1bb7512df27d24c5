import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { Fn, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";

/**
 * The ARN of an SSM parameter given by name (a literal or a Terraform reference), built without reading the parameter (which would
 * copy its value into state). The account comes from one `data.aws_caller_identity.current` per stack.
 */
export function ssmParameterArn(scope: Construct, partition: string, region: string, name: string): string {
  const stack = TerraformStack.of(scope);
  let caller = stack.node.tryFindChild("current_account") as DataAwsCallerIdentity | undefined;
  if (!caller) {
    caller = new DataAwsCallerIdentity(stack, "current_account");
    caller.overrideLogicalId("current");
  }
  const path = Token.isUnresolved(name) ? Fn.trimprefix(name, "/") : name.replace(/^\//, "");
  return `arn:${partition}:ssm:${region}:${caller.accountId}:parameter/${path}`;
}
