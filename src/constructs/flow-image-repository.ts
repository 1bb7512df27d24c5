import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Construct } from "constructs";

export interface FlowImageRepositoryProps {
  readonly repositoryName: string;
}

/**
 * The guide's "deploy a flow" section: an ECR repository for flow images.
 * Tags stay mutable because the guide's prefect.yaml pushes `latest`.
 */
export class FlowImageRepository extends Construct {
  public readonly repository: EcrRepository;

  constructor(scope: Construct, id: string, props: FlowImageRepositoryProps) {
    super(scope, id);
    this.repository = new EcrRepository(this, "repository", {
      name: props.repositoryName,
      imageTagMutability: "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
    });
    this.repository.overrideLogicalId("flow_images");
  }

  get repositoryUrl(): string {
    return this.repository.repositoryUrl;
  }
}
