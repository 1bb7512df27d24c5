import { posix } from "node:path";
import { AssetType, TerraformAsset, TerraformStack } from "cdktf";
import { Construct } from "constructs";

export interface StableFileAssetProps {
  /** The file to ship, relative to cdktf.json or absolute. */
  readonly path: string;
}

/**
 * A file shipped beside the stack at `assets/<id>/<file name>`: a path a person can read and type, the
 * same on every synthesis (cdktf's TerraformAsset puts a content hash in it: `assets/<id>/<hash>/<file>`).
 * Nothing keys on the path, so the hash bought nothing: a changed file is copied over the old one.
 */
export class StableFileAsset extends TerraformAsset {
  constructor(scope: Construct, id: string, props: StableFileAssetProps) {
    super(scope, id, { path: props.path, type: AssetType.FILE });
  }

  /** The path relative to the stack's folder, in POSIX form: reference it as `${path.module}/<path>`. */
  public get path(): string {
    // The folder cdktf names after the asset (and empties before copying): assets/<logical id>.
    return posix.join("assets", TerraformStack.of(this).getLogicalId(this.node), this.fileName);
  }
}
