/**
 * `cdktf synth --hcl` support. cdktf 0.21 (archived, no fix to come) renders
 * HCL from its own guesses, and for this app they go wrong:
 *   - in the terraform block, `required_version` (set by override) comes out as
 *     `0 = "required_version"`, and the cloud block's `workspaces { project = ... }` is dropped;
 *   - a local holding an object with a null crashes synthesis; numeric-looking strings
 *     lose their quotes, strings starting with `{` or `[` are pasted as code, and
 *     backslashes and line breaks are not escaped;
 *   - a provisioner's `when = destroy` comes out quoted (Terraform rejects that), and a
 *     string argument holding `${...}` and quotes comes out unescaped;
 *   - `depends_on` comes out as quoted strings (deprecated references);
 *   - a multi-line output becomes a heredoc with one newline too many;
 *   - a variable's `default = false`, `default = 0`, `default = ""` and `nullable = false`
 *     are dropped (the variable turns required, or nullable).
 * The classes here write those parts themselves, from the resolved values the
 * JSON output holds (src/hcl/render.ts), so both outputs mean the same. The
 * JSON output (`cdktf synth`, `npm run synth`) is unchanged.
 *
 * The mechanism: an element puts a placeholder where cdktf copies a value
 * verbatim (untyped values starting with `{`), and the stack swaps each
 * placeholder for the HCL it stands for once cdktf has rendered the stack.
 */
import {
  DefaultTokenResolver,
  StringConcat,
  TerraformLocal,
  TerraformOutput,
  TerraformResource,
  TerraformStack,
  TerraformVariable,
  Tokenization,
} from "cdktf";
import { Construct, IConstruct } from "constructs";
import { hclExpression } from "./render";

const RESOLVER = new DefaultTokenResolver(new StringConcat());
const PLACEHOLDER = /(")?\{hcl-verbatim-(\d+)\}(")?/g;
/** Settings of a backend or cloud block that are blocks themselves. */
const NESTED_BLOCKS = new Set(["workspaces"]);
/** Provisioner arguments that take a keyword, not a string. */
const KEYWORD_ARGUMENTS = new Set(["when", "on_failure"]);

/** A stack whose HCL output (`cdktf synth --hcl`) means what its JSON output means. */
export class HclSafeStack extends TerraformStack {
  /** HCL for each placeholder handed out during the current toHclTerraform(). */
  private verbatimHcl?: string[];

  /** The HclSafeStack of a construct; throws when the construct is in another kind of stack. */
  public static of(construct: IConstruct): HclSafeStack {
    const stack = TerraformStack.of(construct);
    if (!(stack instanceof HclSafeStack)) {
      throw new Error(`${construct.node.path} renders its own HCL and must be in an HclSafeStack`);
    }
    return stack;
  }

  /** `value` with its tokens resolved, as synthesis writes it into cdk.tf.json. */
  public resolveValue<T>(value: T): T {
    return Tokenization.resolve(value, { scope: this, preparing: false, resolver: RESOLVER }) as T;
  }

  /**
   * A placeholder for `hcl`, for a place where cdktf copies an untyped value
   * verbatim (a local's value, a provisioner argument, an output value, ...).
   * Only during toHclTerraform().
   */
  public verbatim(hcl: string): string {
    if (!this.verbatimHcl) throw new Error("HclSafeStack.verbatim() is for toHclTerraform() only");
    this.verbatimHcl.push(hcl);
    return `{hcl-verbatim-${this.verbatimHcl.length - 1}}`;
  }

  public toHclTerraform(): { [key: string]: unknown } {
    this.verbatimHcl = [];
    try {
      const rendered = super.toHclTerraform();
      const hcl = this.withTerraformBlock(rendered.hcl as string);
      return { ...rendered, hcl: substitute(hcl, this.verbatimHcl) };
    } finally {
      this.verbatimHcl = undefined;
    }
  }

  /** The terraform block, written from the JSON output's (cdktf comes first in its output, and gets it wrong). */
  private withTerraformBlock(hcl: string): string {
    const terraform = (this.toTerraform() as { terraform?: Record<string, unknown> }).terraform;
    if (!terraform) return hcl;
    if (!hcl.startsWith("terraform {")) throw new Error("cdktf rendered no terraform block first");
    return renderTerraformBlock(terraform) + hcl.slice(endOfBlock(hcl, "terraform {".length));
  }
}

function renderTerraformBlock(terraform: Record<string, unknown>): string {
  const lines = ["terraform {"];
  const rank = (name: string) => ["required_version", "required_providers", "backend", "cloud"].indexOf(name) >>> 0;
  const entries = Object.entries(terraform).sort(([a], [b]) => rank(a) - rank(b));
  for (const [name, value] of entries) {
    if (name === "required_providers") {
      lines.push("  required_providers {", ...attributes(value as Record<string, unknown>, "    "), "  }");
    } else if (name === "backend") {
      for (const [type, config] of Object.entries(value as Record<string, Record<string, unknown>>)) {
        lines.push(`  backend ${hclExpression(type)} {`, ...settings(config, "    "), "  }");
      }
    } else if (name === "cloud") {
      lines.push("  cloud {", ...settings(value as Record<string, unknown>, "    "), "  }");
    } else {
      lines.push(`  ${name} = ${hclExpression(value, "  ")}`);
    }
  }
  return `${lines.join("\n")}\n}`;
}

function attributes(body: Record<string, unknown>, indent: string): string[] {
  return Object.entries(body).map(([name, value]) => `${indent}${name} = ${hclExpression(value, indent)}`);
}

/** A backend's or the cloud block's settings: attributes, and `workspaces` as a block. */
function settings(body: Record<string, unknown>, indent: string): string[] {
  return Object.entries(body).flatMap(([name, value]) =>
    NESTED_BLOCKS.has(name) && value !== null && typeof value === "object" && !Array.isArray(value)
      ? [`${indent}${name} {`, ...attributes(value as Record<string, unknown>, `${indent}  `), `${indent}}`]
      : attributes({ [name]: value }, indent),
  );
}

/** Index just past the `}` closing the block whose body starts at `start` (cdktf's output: quoted strings, no heredocs). */
function endOfBlock(hcl: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < hcl.length; i += 1) {
    const c = hcl[i];
    if (inString) {
      if (c === "\\") i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth += 1;
    else if (c === "}") {
      if (depth === 0) return i + 1;
      depth -= 1;
    }
  }
  throw new Error("cdktf rendered an unterminated terraform block");
}

function substitute(hcl: string, verbatimHcl: readonly string[]): string {
  const used = new Set<number>();
  const result = hcl.replace(PLACEHOLDER, (match, before: string | undefined, index: string, after: string | undefined) => {
    const n = Number(index);
    if (before || after || n >= verbatimHcl.length || used.has(n)) {
      throw new Error(`cdktf did not copy HCL placeholder ${match} verbatim`);
    }
    used.add(n);
    return verbatimHcl[n];
  });
  if (used.size !== verbatimHcl.length) throw new Error("cdktf dropped an HCL placeholder");
  return result;
}

/**
 * A local whose value is plain JSON data (references inside strings allowed):
 * in cdk.tf.json exactly that JSON, in cdk.tf the same value as an HCL
 * expression. Set the value in the constructor only.
 */
export class JsonLocal extends TerraformLocal {
  private readonly json: unknown;

  constructor(scope: Construct, id: string, json: unknown) {
    super(scope, id, json);
    this.json = json;
  }

  public toHclTerraform(): unknown {
    const stack = HclSafeStack.of(this);
    const value = stack.verbatim(hclExpression(stack.resolveValue(this.json), "  "));
    return { locals: { [this.friendlyUniqueId]: { value, isBlock: false, type: "any" } } };
  }
}

/** An output whose value cdktf's HCL renderer cannot get wrong (multi-line strings become exact heredocs). */
export class HclOutput extends TerraformOutput {
  public toHclTerraform(): unknown {
    const stack = HclSafeStack.of(this);
    const fragment = stack.resolveValue(super.toHclTerraform()) as { output: Record<string, { value?: { value: unknown } }> };
    for (const body of Object.values(fragment.output)) {
      if (body.value) body.value = { ...body.value, value: stack.verbatim(hclExpression(body.value.value, "", { heredoc: true })) };
    }
    return fragment;
  }
}

/** A variable whose default, nullable and sensitive come out in HCL even when false, 0 or "". */
export class HclVariable extends TerraformVariable {
  public toHclTerraform(): unknown {
    const stack = HclSafeStack.of(this);
    const fragment = stack.resolveValue(super.toHclTerraform()) as { variable: Record<string, Record<string, unknown>> };
    const body = fragment.variable[this.friendlyUniqueId];
    const overridden = this.rawOverrides as Record<string, unknown>;
    const settings: Record<string, unknown> = { default: this.default, nullable: this.nullable, sensitive: this.sensitive };
    for (const [name, value] of Object.entries(settings)) {
      // Overrides (`default = null`, ...) are merged in already and take precedence, as in the JSON output.
      if (value !== undefined && !(name in overridden)) body[name] = stack.verbatim(hclExpression(stack.resolveValue(value), "  "));
    }
    return fragment;
  }
}

type ResourceClass = new (...args: any[]) => TerraformResource; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * `Base` with `depends_on` written as references and provisioner arguments
 * (`when = destroy`, commands with quotes) written by us in HCL.
 */
export function hclSafeResource<T extends ResourceClass>(Base: T): T {
  return class extends Base {
    public toHclTerraform(): unknown {
      const stack = HclSafeStack.of(this);
      const fragment = stack.resolveValue(super.toHclTerraform()) as { resource?: Record<string, Record<string, ResourceBody>> };
      for (const byName of Object.values(fragment.resource ?? {})) {
        for (const body of Object.values(byName)) fixMetaArguments(stack, body);
      }
      return fragment;
    }
  };
}

interface ResourceBody {
  depends_on?: unknown;
  provisioner?: Record<string, { value: Record<string, unknown> }>[];
}

function fixMetaArguments(stack: HclSafeStack, body: ResourceBody): void {
  if (Array.isArray(body.depends_on)) {
    body.depends_on = stack.verbatim(`[${body.depends_on.map((address) => reference(String(address))).join(", ")}]`);
  }
  body.provisioner = body.provisioner?.map((provisioner) =>
    Object.fromEntries(
      Object.entries(provisioner).map(([type, block]) => {
        const args = Object.entries(block.value).map(([name, value]) => [
          name,
          stack.verbatim(KEYWORD_ARGUMENTS.has(name) ? keyword(value) : hclExpression(value, "  ")),
        ]);
        return [type, { ...block, value: Object.fromEntries(args) }];
      }),
    ),
  );
}

function reference(address: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$/.test(address)) throw new Error(`not a reference: ${address}`);
  return address;
}

function keyword(value: unknown): string {
  if (typeof value !== "string" || !/^[a-z_]+$/.test(value)) throw new Error(`not a keyword: ${JSON.stringify(value)}`);
  return value;
}
