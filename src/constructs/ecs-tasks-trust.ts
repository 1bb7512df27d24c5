import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Construct } from "constructs";

/**
 * The guide's trust-policy.json, shared by the three roles: an ordinary
 * service-role trust for ECS tasks (the guide calls it "service-linked"; it is not).
 */
export class EcsTasksTrustPolicy extends Construct {
  public readonly document: DataAwsIamPolicyDocument;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.document = new DataAwsIamPolicyDocument(this, "document", {
      statement: [
        {
          sid: "EcsTasksAssumeRole",
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
        },
      ],
    });
    this.document.overrideLogicalId("ecs_tasks_assume_role");
  }

  get json(): string {
    return this.document.json;
  }
}
