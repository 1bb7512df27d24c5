import { DataAwsEcrLifecyclePolicyDocument } from "@cdktf/provider-aws/lib/data-aws-ecr-lifecycle-policy-document";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Construct } from "constructs";

export interface FlowImageRepositoryProps {
  readonly repositoryName: string;
  /**
   * MUTABLE lets the guide's prefect.yaml push `latest` again on every deploy.
   * @default "MUTABLE"
   */
  readonly imageTagMutability?: "MUTABLE" | "IMMUTABLE";
  /**
   * How many of the most recent images the lifecycle policy keeps.
   * @default 30
   */
  readonly keepImages?: number;
}

/**
 * The guide's "deploy a flow" section: an ECR repository for flow images,
 * scanned on push, with a lifecycle policy so old images do not pile up.
 */
export class FlowImageRepository extends Construct {
  public readonly repository: EcrRepository;
  public readonly lifecyclePolicyDocument: DataAwsEcrLifecyclePolicyDocument;
  public readonly lifecyclePolicy: EcrLifecyclePolicy;

  constructor(scope: Construct, id: string, props: FlowImageRepositoryProps) {
    super(scope, id);
    this.repository = new EcrRepository(this, "repository", {
      name: props.repositoryName,
      imageTagMutability: props.imageTagMutability ?? "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
    });
    this.repository.overrideLogicalId("flow_images");
    // A policy document data source, like the IAM policies: the rules read as blocks in HCL, not as escaped JSON.
    const keepImages = props.keepImages ?? 30;
    this.lifecyclePolicyDocument = new DataAwsEcrLifecyclePolicyDocument(this, "lifecycle_document", {
      rule: [
        {
          priority: 1,
          description: "Expire untagged images after 7 days",
          selection: [{ tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 }],
          action: [{ type: "expire" }],
        },
        {
          priority: 2,
          description: `Keep the ${keepImages} most recent images`,
          selection: [{ tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages }],
          action: [{ type: "expire" }],
        },
      ],
    });
    this.lifecyclePolicyDocument.overrideLogicalId("flow_images");
    this.lifecyclePolicy = new EcrLifecyclePolicy(this, "lifecycle", {
      repository: this.repository.name,
      policy: this.lifecyclePolicyDocument.json,
    });
    this.lifecyclePolicy.overrideLogicalId("flow_images");
  }

  get repositoryUrl(): string {
    return this.repository.repositoryUrl;
  }
}
