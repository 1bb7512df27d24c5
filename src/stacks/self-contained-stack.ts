import { Annotations, TerraformOutput, Token } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { HclSafeStack, terraformElementsOf } from "../hcl/elements";
import { CdktfInternals, cdktfInternals, FAST_SYNTHESIS_CDKTF_VERSION, fastSynthesisProblem, StackInternals } from "./cdktf-internals";

export interface SelfContainedStackProps {
  /**
   * Resolve each element once when synthesizing JSON. cdktf resolves every value three times: a
   * "preparing" pass whose only effect is wiring references to other stacks' resources (outputs +
   * remote state), the element itself, then the whole stack again. This app's stacks reference no
   * other stack's resources (the work-pool stack reads the AWS stack through
   * terraform_remote_state), so the app's edge turns this on: same output (tested), a third of the
   * work (help/performance.md). Leave it off when adding constructs that reference another
   * stack's resources. It copies cdktf 0.21.0: with another cdktf it is off, with a warning
   * (src/stacks/cdktf-internals.ts).
   * @default false
   */
  readonly resolveOnce?: boolean;
}

/** A stack that can resolve its elements once (SelfContainedStackProps.resolveOnce). */
export class SelfContainedStack extends HclSafeStack {
  /** cdktf's helpers when resolving once, else undefined (cdktf's own synthesis). */
  private readonly internals?: CdktfInternals;

  constructor(scope: Construct, id: string, props: SelfContainedStackProps = {}) {
    super(scope, id);
    const problem = props.resolveOnce ? fastSynthesisProblem(this) : undefined;
    if (problem) {
      Annotations.of(this).addWarning(
        `synthesizing the standard (slower) way: ${problem}. The fast way copies cdktf ${FAST_SYNTHESIS_CDKTF_VERSION} (help/performance.md).`,
      );
    }
    this.internals = props.resolveOnce && !problem ? cdktfInternals() : undefined;
  }

  public prepareStack(): void {
    if (!this.internals) return super.prepareStack();
    // All the pass does besides looking for references to other stacks.
    this.ensureBackendExists();
  }

  /**
   * cdktf's TerraformStack.toTerraform() (0.21.0, the last release) minus its final resolve of the
   * merged document: the elements' fragments are resolved already and stay as they are when
   * resolved again, so only the raw overrides need it, and they get it here before the merge.
   * Only the parts that hold tokens go through cdktf's resolver (resolveTokens()).
   */
  public toTerraform(): Record<string, unknown> {
    if (!this.internals) return super.toTerraform();
    const { resolve, deepMerge } = this.internals;
    const { rawOverrides, cdktfVersion } = this as unknown as StackInternals;
    const metadata: Record<string, unknown> = {
      version: cdktfVersion,
      stackName: this.node.id,
      backend: "local",
      cloud: undefined,
      ...(Object.keys(rawOverrides).length > 0 ? { overrides: { stack: Object.keys(rawOverrides) } } : {}),
    };
    const elements = terraformElementsOf(this);
    const resolveTokens = (value: unknown) => resolveTokensWith(resolve, this, value);
    for (const element of elements) deepMerge(metadata, resolveTokens(element.toMetadata()));
    const outputs: Record<string, unknown> = {};
    for (const element of elements) {
      if (!TerraformOutput.isTerraformOutput(element)) continue;
      const path = element.node.path.split("/");
      deepMerge(outputs, path.reduceRight<unknown>((inner, part) => ({ [part]: inner }), element.friendlyUniqueId));
    }
    const tf: Record<string, unknown> = { "//": { metadata: resolveTokens(metadata), outputs } };
    for (const element of elements) deepMerge(tf, resolveTokens(element.toTerraform()));
    deepMerge(tf, resolveTokens(rawOverrides));
    return tf;
  }
}

/**
 * `value` as cdktf's resolve() returns it, with only the parts that hold tokens passed to it.
 * resolve() pays for every member of every object (most of a resource's attributes are unset,
 * and most strings are plain), so walking plain data here first takes a third off synthesis.
 * Plain data resolves to itself minus undefined members. A string that may carry a token (a
 * string, list or map token marker, or an encoded number), a number token, a token object, an
 * object with such a key, and an array with such an element go to resolve() whole.
 */
function resolveTokensWith(resolve: CdktfInternals["resolve"], scope: IConstruct, value: unknown): unknown {
  if (value === undefined || value === null || typeof value === "boolean") return value;
  if (typeof value === "string" || typeof value === "number") return isTokenScalar(value) ? resolve(scope, value) : value;
  if (Array.isArray(value)) {
    if (value.some(isTokenScalar)) return resolve(scope, value);
    return value.map((item) => resolveTokensWith(resolve, scope, item)).filter((item) => item !== undefined);
  }
  if (!isPlainData(value) || Object.keys(value).some(isTokenScalar)) return resolve(scope, value);
  const resolved: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const result = resolveTokensWith(resolve, scope, item);
    if (result !== undefined) resolved[key] = result;
  }
  return resolved;
}

/**
 * How cdktf finds number tokens written into strings (tokens/private/encoding.js): a number in
 * exponent notation; resolve() leaves the ones that are not tokens as they are.
 */
const NUMBER_IN_STRING = /[-|\d|.+]+(e[-|\d|.|e|E|+]+)/;

/** A string with any of cdktf's token markers or an encoded number in it, or a number token. */
function isTokenScalar(value: unknown): boolean {
  if (typeof value === "string") return value.includes("TfToken[") || NUMBER_IN_STRING.test(value);
  return typeof value === "number" && Token.isUnresolved(value);
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
