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
  public readonly lifecyclePolicy: EcrLifecyclePolicy;

  constructor(scope: Construct, id: string, props: FlowImageRepositoryProps) {
    super(scope, id);
    this.repository = new EcrRepository(this, "repository", {
      name: props.repositoryName,
      imageTagMutability: props.imageTagMutability ?? "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
    });
    this.repository.overrideLogicalId("flow_images");
    this.lifecyclePolicy = new EcrLifecyclePolicy(this, "lifecycle", {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "Expire untagged images after 7 days",
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: `Keep the ${props.keepImages ?? 30} most recent images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: props.keepImages ?? 30 },
            action: { type: "expire" },
          },
        ],
      }),
    });
    this.lifecyclePolicy.overrideLogicalId("flow_images");
  }

  get repositoryUrl(): string {
    return this.repository.repositoryUrl;
  }
}
