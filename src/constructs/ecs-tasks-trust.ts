import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Construct } from "constructs";
import { ClusterArnParts, ecsArnOf } from "./cluster";
import { IamPolicyStyle } from "./worker-policy";

export interface EcsTasksTrustPolicyProps {
  /** The cluster the tasks run in: its partition, region and account bound the trust. */
  readonly cluster: ClusterArnParts;
  /**
   * "guide": the guide's trust-policy.json as printed, without the confused-deputy conditions.
   * @default "least-privilege"
   */
  readonly style?: IamPolicyStyle;
}

/**
 * The guide's trust-policy.json, shared by the roles: an ordinary
 * service-role trust for ECS tasks (the guide calls it "service-linked"; it
 * is not). By default ECS may assume the roles only for tasks of our account
 * and region (aws:SourceAccount, aws:SourceArn), so another account cannot
 * have ECS hand it our roles (the confused deputy).
 */
export class EcsTasksTrustPolicy extends Construct {
  public readonly document: DataAwsIamPolicyDocument;

  constructor(scope: Construct, id: string, props: EcsTasksTrustPolicyProps) {
    super(scope, id);
    const { cluster } = props;
    this.document = new DataAwsIamPolicyDocument(this, "document", {
      statement: [
        {
          sid: "EcsTasksAssumeRole",
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
          condition:
            props.style === "guide"
              ? undefined
              : [
                  { test: "StringEquals", variable: "aws:SourceAccount", values: [cluster.accountId] },
                  { test: "ArnLike", variable: "aws:SourceArn", values: [ecsArnOf(cluster, "*")] },
                ],
        },
      ],
    });
    this.document.overrideLogicalId("ecs_tasks_assume_role");
  }

  get json(): string {
    return this.document.json;
  }
}
