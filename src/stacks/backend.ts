import {
  CloudBackend,
  DataTerraformRemoteState,
  DataTerraformRemoteStateLocal,
  DataTerraformRemoteStateS3,
  LocalBackend,
  NamedCloudWorkspace,
  S3Backend,
  TerraformRemoteState,
  TerraformStack,
} from "cdktf";
import { ResolvedBackend } from "../config/resolve";

/** Where a stack keeps its state: its own folder, an S3 object, or its own Terraform Cloud workspace. */
export function configureBackend(stack: TerraformStack, backend: ResolvedBackend, stackName: string): void {
  switch (backend.type) {
    case "local":
      // Relative, so the state lands beside the stack wherever it is applied (cdktf's default path is absolute).
      new LocalBackend(stack, { path: "terraform.tfstate" });
      return;
    case "s3":
      new S3Backend(stack, {
        bucket: backend.bucket,
        key: s3StateKey(backend, stackName),
        region: backend.region,
        encrypt: backend.encrypt,
        kmsKeyId: backend.kmsKeyId,
      });
      // S3-native locking (Terraform 1.10+): no DynamoDB table. cdktf 0.21 has no property for it.
      if (backend.useLockfile) stack.addOverride("terraform.backend.s3.use_lockfile", true);
      return;
    case "cloud":
      new CloudBackend(stack, {
        hostname: backend.hostname,
        organization: backend.organization,
        workspaces: new NamedCloudWorkspace(cloudWorkspaceName(backend, stackName), backend.project),
      });
      return;
  }
}

/**
 * Reads another stack's outputs from wherever that stack keeps its state.
 * The data source's address is always `data.terraform_remote_state.<logicalId>`.
 */
export function remoteStateOf(
  stack: TerraformStack,
  logicalId: string,
  backend: ResolvedBackend,
  producerStackName: string,
): TerraformRemoteState {
  let state: TerraformRemoteState;
  switch (backend.type) {
    case "local":
      // Both stack folders sit side by side under cdktf.out/stacks.
      state = new DataTerraformRemoteStateLocal(stack, logicalId, { path: `../${producerStackName}/terraform.tfstate` });
      break;
    case "s3":
      state = new DataTerraformRemoteStateS3(stack, logicalId, {
        bucket: backend.bucket,
        key: s3StateKey(backend, producerStackName),
        region: backend.region,
      });
      break;
    case "cloud":
      // Needs "Remote state sharing" from the producer's workspace to this one (help/work-pool.md).
      state = new DataTerraformRemoteState(stack, logicalId, {
        hostname: backend.hostname,
        organization: backend.organization,
        workspaces: { name: cloudWorkspaceName(backend, producerStackName) },
      });
      break;
  }
  state.overrideLogicalId(logicalId);
  return state;
}

export function s3StateKey(backend: { readonly keyPrefix: string }, stackName: string): string {
  return `${backend.keyPrefix}/${stackName}/terraform.tfstate`;
}

export function cloudWorkspaceName(backend: { readonly workspacePrefix: string }, stackName: string): string {
  return `${backend.workspacePrefix}${stackName}`;
}
