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

  private string(): string {
    const match = /^"(?:[^"\\]|\\.)*"/.exec(this.rest());
    if (!match) throw new Error(`expected a string at ${this.pos}: ${this.rest().slice(0, 40)}`);
    this.pos += match[0].length;
    return JSON.parse(match[0]) as string;
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
