import { TerraformElement, TerraformOutput, TerraformStack } from "cdktf";
import { resolve } from "cdktf/lib/_tokens";
import { deepMerge } from "cdktf/lib/util";
import { Construct, IConstruct } from "constructs";
import { HclSafeStack } from "../hcl/elements";

export interface SelfContainedStackProps {
  /**
   * Resolve each element once when synthesizing JSON. cdktf resolves every value three times: a
   * "preparing" pass whose only effect is wiring references to other stacks' resources (outputs +
   * remote state), the element itself, then the whole stack again. This app's stacks reference no
   * other stack's resources (the work-pool stack reads the AWS stack through
   * terraform_remote_state), so the app's edge turns this on: same output (tested), a third of the
   * work (help/performance.md). Leave it off when adding constructs that reference another
   * stack's resources.
   * @default false
   */
  readonly resolveOnce?: boolean;
}

/** What TerraformStack keeps to itself but toTerraform() needs (cdktf 0.21.0). */
interface StackInternals {
  readonly rawOverrides: Record<string, unknown>;
  readonly cdktfVersion: string;
}

/** A stack that can resolve its elements once (SelfContainedStackProps.resolveOnce). */
export class SelfContainedStack extends HclSafeStack {
  private readonly resolveOnce: boolean;

  constructor(scope: Construct, id: string, props: SelfContainedStackProps = {}) {
    super(scope, id);
    this.resolveOnce = props.resolveOnce ?? false;
  }

  public prepareStack(): void {
    if (!this.resolveOnce) return super.prepareStack();
    // All the pass does besides looking for references to other stacks.
    this.ensureBackendExists();
  }

  /**
   * cdktf's TerraformStack.toTerraform() (0.21.0, the last release) minus its final resolve of the
   * merged document: the elements' fragments are resolved already and stay as they are when
   * resolved again, so only the raw overrides need it, and they get it here before the merge.
   * Unset attributes are dropped before resolving rather than by it.
   */
  public toTerraform(): Record<string, unknown> {
    if (!this.resolveOnce) return super.toTerraform();
    const { rawOverrides, cdktfVersion } = this as unknown as StackInternals;
    const metadata: Record<string, unknown> = {
      version: cdktfVersion,
      stackName: this.node.id,
      backend: "local",
      cloud: undefined,
      ...(Object.keys(rawOverrides).length > 0 ? { overrides: { stack: Object.keys(rawOverrides) } } : {}),
    };
    const elements = elementsOf(this);
    for (const element of elements) deepMerge(metadata, resolve(this, element.toMetadata()));
    const outputs: Record<string, unknown> = {};
    for (const element of elements) {
      if (!TerraformOutput.isTerraformOutput(element)) continue;
      const path = element.node.path.split("/");
      deepMerge(outputs, path.reduceRight<unknown>((inner, part) => ({ [part]: inner }), element.friendlyUniqueId));
    }
    const tf: Record<string, unknown> = { "//": { metadata: resolve(this, metadata), outputs } };
    for (const element of elements) deepMerge(tf, resolve(this, withoutUndefined(element.toTerraform())));
    deepMerge(tf, resolve(this, rawOverrides));
    return tf;
  }
}

/** The stack's Terraform elements, depth first, not entering nested stacks (as cdktf lists them). */
function elementsOf(node: IConstruct, into: TerraformElement[] = []): TerraformElement[] {
  if (TerraformElement.isTerraformElement(node)) into.push(node);
  for (const child of node.node.children) {
    if (!TerraformStack.isStack(child)) elementsOf(child, into);
  }
  return into;
}

/**
 * `value` without undefined members, copied down through plain objects and arrays (not into
 * tokens or other class instances). The provider's toTerraform() lists every attribute of a
 * resource, set or not, and resolve() drops the unset ones only after paying for each: dropping
 * them first saves a fifth of the synthesis time, with the same result.
 */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map(withoutUndefined);
  if (!isPlainData(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) copy[key] = withoutUndefined(item);
  }
  return copy;
}

/** A plain object that is not a token (a token is any object with a resolve() method). */
function isPlainData(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype &&
    typeof (value as { resolve?: unknown }).resolve !== "function"
  );
}
