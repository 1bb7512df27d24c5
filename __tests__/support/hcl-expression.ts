/**
 * Reads the HCL expressions cdktf writes for `Fn.jsonencode(...)`, e.g.
 * `${jsonencode({"name" = "x", "cpu" = var.worker_cpu})}`, into plain values,
 * so tests can assert on their structure. References (`var.x`,
 * `aws_sqs_queue.q.arn`) become the strings `${var.x}`; string templates stay
 * as written. Only the subset cdktf emits is supported; anything else throws.
 */
export function parseJsonencode(expression: unknown): unknown {
  if (typeof expression !== "string") throw new Error(`not an expression: ${JSON.stringify(expression)}`);
  const match = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expression);
  if (!match) throw new Error(`not a jsonencode expression: ${expression}`);
  const parser = new Parser(match[1]);
  const value = parser.value();
  parser.end();
  return value;
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  value(): unknown {
    this.skip();
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    const literal = /^(-?\d+(\.\d+)?|true|false|null)/.exec(this.rest());
    if (literal) {
      this.pos += literal[0].length;
      return JSON.parse(literal[0]);
    }
    const reference = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_*-]+|\[[0-9]+\])+/.exec(this.rest());
    if (reference) {
      this.pos += reference[0].length;
      return `\${${reference[0]}}`;
    }
    throw new Error(`unexpected input at ${this.pos}: ${this.rest().slice(0, 40)}`);
  }

  end(): void {
    this.skip();
    if (this.pos !== this.text.length) throw new Error(`trailing input: ${this.rest().slice(0, 40)}`);
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.expect("{");
    this.skip();
    while (this.text[this.pos] !== "}") {
      const key = this.string();
      this.skip();
      this.expect("=");
      result[key] = this.value();
      this.skip();
      if (this.text[this.pos] === ",") this.pos++;
      this.skip();
    }
    this.expect("}");
    return result;
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.expect("[");
    this.skip();
    while (this.text[this.pos] !== "]") {
      result.push(this.value());
      this.skip();
      if (this.text[this.pos] === ",") this.pos++;
      this.skip();
    }
    this.expect("]");
    return result;
  }

  /** A string literal; a template with interpolations (which may hold quoted strings themselves) stays as written. */
  private string(): string {
    if (this.text[this.pos] !== '"') throw new Error(`expected a string at ${this.pos}: ${this.rest().slice(0, 40)}`);
    const start = this.pos;
    this.pos = endOfStringLiteral(this.text, start) + 1;
    const literal = this.text.slice(start, this.pos);
    return literal.includes("${") ? literal.slice(1, -1) : (JSON.parse(literal) as string);
  }

  private expect(token: string): void {
    if (this.text[this.pos] !== token) throw new Error(`expected ${token} at ${this.pos}: ${this.rest().slice(0, 40)}`);
    this.pos++;
  }

  private skip(): void {
    while (/\s/.test(this.text[this.pos] ?? "")) this.pos++;
  }

  private rest(): string {
    return this.text.slice(this.pos);
  }
}

/** Index of the quote closing the string literal that opens at `start`, skipping `${ ... }` interpolations. */
function endOfStringLiteral(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
    else if (text.startsWith("${", i)) i = endOfInterpolation(text, i + 2);
  }
  throw new Error(`unterminated string at ${start}: ${text.slice(start, start + 40)}`);
}

/** Index of the `}` closing an interpolation whose body starts at `start` (its string literals may hold braces). */
function endOfInterpolation(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '"') i = endOfStringLiteral(text, i);
    else if (text[i] === "{") depth++;
    else if (text[i] === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  throw new Error(`unterminated interpolation at ${start}: ${text.slice(start, start + 40)}`);
}
