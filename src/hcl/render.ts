/**
 * Renders resolved Terraform JSON values (what cdk.tf.json holds) as HCL
 * native syntax with exactly the same meaning.
 *
 * In Terraform's JSON syntax every string is a template: `${...}` and `%{...}`
 * are interpolations and directives, `$${` and `%%{` their escapes, and
 * backslashes are plain characters (JSON decoding already handled them). An
 * HCL quoted string is the same kind of template plus backslash escapes, so a
 * string converts by escaping `\`, `"` and control characters in its literal
 * parts and copying its interpolations and directives verbatim.
 */

/** Keywords that would not read as a literal object key. */
const NOT_A_BARE_KEY = new Set(["true", "false", "null", "for", "in", "if"]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** A list of text longer than this (written on one line) gets a line per item. */
const ONE_LINE_LIST = 80;

export interface HclExpressionOptions {
  /**
   * Write a multi-line string that ends in a newline as a heredoc (readable,
   * and exact: a heredoc's value ends with the newline before its delimiter).
   * Only for a value that stands alone as an attribute's value.
   * @default false
   */
  readonly heredoc?: boolean;
}

/**
 * `value` as an HCL expression. Objects and long lists span lines; the
 * indentation and alignment are formatHcl()'s business (src/hcl/format.ts).
 */
export function hclExpression(value: unknown, options: HclExpressionOptions = {}): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} in HCL`);
    return String(value);
  }
  if (typeof value === "string") return options.heredoc && fitsHeredoc(value) ? hclHeredoc(value) : hclString(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((item) => hclExpression(item));
    const oneLine = `[${items.join(", ")}]`;
    // Numbers read well in a row however many; text gets a line per item once the row is long.
    const scalars = value.every((item) => item === null || typeof item !== "object");
    if (scalars && (oneLine.length <= ONE_LINE_LIST || value.every((item) => typeof item === "number"))) return oneLine;
    return `[\n${items.map((item) => `${item},`).join("\n")}\n]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([key, item]) => `${hclKey(key)} = ${hclExpression(item)}`).join("\n")}\n}`;
  }
  throw new Error(`cannot write a ${typeof value} in HCL`);
}

/**
 * A Terraform template string as HCL: a lone interpolation `${expr}` as the
 * bare expression (the same value, type included), anything else quoted.
 */
export function hclString(template: string): string {
  const sole = soleInterpolation(template);
  return sole ?? `"${hclTemplateBody(template)}"`;
}

/** The inside of an HCL quoted string with the same template meaning as `template`. */
export function hclTemplateBody(template: string): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if ((c === "$" || c === "%") && template[i + 1] === c && template[i + 2] === "{") {
      out += template.slice(i, i + 3); // an escaped `${` or `%{`: the same escape in both syntaxes
      i += 3;
    } else if ((c === "$" || c === "%") && template[i + 1] === "{") {
      const end = endOfSequence(template, i + 2);
      out += template.slice(i, end);
      i = end;
    } else {
      out += escapeLiteral(c);
      i += 1;
    }
  }
  return out;
}

/** An object key: bare when it reads as a literal name, else a quoted template (as JSON property names are). */
export function hclKey(key: string): string {
  return IDENTIFIER.test(key) && !NOT_A_BARE_KEY.has(key) ? key : `"${hclTemplateBody(key)}"`;
}

/** `${expr}` and nothing else, without strip markers or line breaks: `expr`. */
function soleInterpolation(template: string): string | undefined {
  if (!template.startsWith("${") || template.startsWith("${~")) return undefined;
  if (endOfSequence(template, 2) !== template.length) return undefined;
  const inner = template.slice(2, -1);
  if (inner.endsWith("~") || inner.includes("\n") || inner.trim() === "") return undefined;
  return inner.trim();
}

function fitsHeredoc(text: string): boolean {
  return text.endsWith("\n") && text.indexOf("\n") < text.length - 1 && !text.includes("\r");
}

/** A heredoc: its lines are a template like a JSON string, backslashes included. */
function hclHeredoc(text: string): string {
  const lines = text.slice(0, -1).split("\n");
  let delimiter = "EOT";
  while (lines.some((line) => line.trim() === delimiter)) delimiter += "_";
  return `<<${delimiter}\n${text}${delimiter}`;
}

function escapeLiteral(c: string): string {
  switch (c) {
    case "\\":
      return "\\\\";
    case '"':
      return '\\"';
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default: {
      const code = c.charCodeAt(0);
      return code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, "0")}` : c;
    }
  }
}

/** Index just past the `}` that closes the interpolation or directive whose body starts at `start`. */
function endOfSequence(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = endOfQuoted(text, i + 1);
      continue;
    }
    if (c === "{") depth += 1;
    else if (c === "}") {
      if (depth === 0) return i + 1;
      depth -= 1;
    }
    i += 1;
  }
  throw new Error(`unterminated template sequence in ${JSON.stringify(text)}`);
}

/** Index just past the `"` that closes a quoted string inside an expression, whose body starts at `start`. */
function endOfQuoted(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === '"') return i + 1;
    else if ((c === "$" || c === "%") && text[i + 1] === c && text[i + 2] === "{") i += 3;
    else if ((c === "$" || c === "%") && text[i + 1] === "{") i = endOfSequence(text, i + 2);
    else i += 1;
  }
  throw new Error(`unterminated string in template ${JSON.stringify(text)}`);
}
