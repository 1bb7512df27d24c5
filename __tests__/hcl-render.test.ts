/**
 * The HCL renderer on its own (src/hcl/): a Terraform JSON document written
 * as HCL means the same, read back by HCL's own parser (@cdktf/hcl2json, the
 * Go HCL library compiled to WebAssembly), and is formatted exactly as
 * `terraform fmt` formats it (the real binary, when present).
 */
import { parse } from "@cdktf/hcl2json";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDocument } from "../src/hcl/document";
import { formatHcl } from "../src/hcl/format";
import { describeWithTerraform, terraformOk } from "./support/terraform";

type Json = Record<string, unknown>;
const NO_LAYOUT = { schemas: new Map(), order: [] };

/** A local's value, written as HCL and read back by HCL's parser. */
async function roundTripLocal(value: unknown): Promise<unknown> {
  const hcl = renderDocument({ locals: { value } }, NO_LAYOUT);
  const parsed = (await parse("main.tf", hcl)) as { locals: Json[] };
  return parsed.locals[0].value;
}

/** An output's value (written as a heredoc when it is multi-line text), read back. */
async function roundTripOutput(value: string): Promise<{ hcl: string; value: unknown }> {
  const hcl = renderDocument({ output: { text: { value } } }, NO_LAYOUT);
  const parsed = (await parse("main.tf", hcl)) as { output: Record<string, Json[]> };
  return { hcl, value: parsed.output.text[0].value };
}

describe("GIVEN object keys that are HCL keywords or not identifiers", () => {
  it.each(["for", "in", "if", "true", "false", "null", "awslogs-group", "with space", "9lives", "a.b", "ünïcode", ""])(
    "WHEN %j is a key THEN HCL's parser reads the same key back",
    async (key) => {
      expect(await roundTripLocal({ [key]: 1, other: 2 })).toEqual({ [key]: 1, other: 2 });
    },
  );
  it("WHEN the key is `for` THEN it is quoted (bare, `{ for = 1 }` would start a for expression)", () => {
    expect(renderDocument({ locals: { value: { for: 1 } } }, NO_LAYOUT)).toMatch(/^ {4}"for" = 1$/m);
  });
});

describe("GIVEN strings that are templates in Terraform's JSON syntax", () => {
  it.each([
    ["an escaped interpolation", "literal $${not_a_reference} text"],
    ["an escaped directive", "literal %%{if x} text"],
    ["a lone escaped interpolation", "$${var.x}"],
    ["an interpolation among text", "arn:${var.partition}:iam::aws"],
    ["a directive", "%{if var.flag}yes%{else}no%{endif}"],
    ["an interpolation holding a quoted string with a brace", '${replace(var.x, "}", "")}-suffix'],
    ["quotes and backslashes", 'say "hi" from C:\\dir\\'],
    ["control characters", "tab\there\rcr\u0001one\u007fdel\u001bescape"],
    ["a line break", "one\ntwo"],
    ["numeric-looking text", "0123"],
    ["text that looks like HCL", '{"a": [1]}'],
    ["text ending in a dollar or percent", "cost: 5$ or 5%"],
  ])("WHEN the value holds %s THEN HCL's parser reads the same template back", async (_name, template) => {
    expect(await roundTripLocal(template)).toEqual(template);
    expect(await roundTripLocal([template, { key: template }])).toEqual([template, { key: template }]);
  });

  it("WHEN a string is one interpolation THEN it is written as the bare expression, in lists and objects too", () => {
    const hcl = renderDocument({ locals: { value: { a: "${var.a}", b: ["${var.b}", "x-${var.c}"] } } }, NO_LAYOUT);
    expect(hcl).toContain("a = var.a\n");
    expect(hcl).toContain('b = [var.b, "x-${var.c}"]');
  });
});

describe("GIVEN multi-line text as an output value", () => {
  it("WHEN it ends in a line break THEN it is an exact heredoc", async () => {
    const text = "first\n  second ${var.x}\n";
    const { hcl, value } = await roundTripOutput(text);
    expect(hcl).toContain("<<EOT\nfirst\n  second ${var.x}\nEOT\n");
    expect(value).toBe(text);
  });
  it.each([
    ["the delimiter", "a\nEOT\nb\n", "EOT_"],
    ["the delimiter, indented, and its first alternative", "a\n  EOT\nEOT_\nb\n", "EOT__"],
  ])("WHEN a line of it is %s THEN another delimiter is chosen and the text survives", async (_name, text, delimiter) => {
    const { hcl, value } = await roundTripOutput(text);
    expect(hcl).toContain(`<<${delimiter}\n`);
    expect(value).toBe(text);
  });
  it.each([["no final line break", "a\nb"], ["a carriage return", "a\r\nb\n"], ["backslashes", "C:\\dir\nx\n"]])(
    "WHEN it has %s THEN it reads back the same",
    async (_name, text) => {
      expect((await roundTripOutput(text)).value).toBe(text);
    },
  );
});

describe("GIVEN Terraform's blocks and the arguments JSON writes as plain strings", () => {
  const document: Json = {
    terraform: {
      required_version: ">= 1.11.0",
      backend: { s3: { bucket: "b", key: "k", region: "us-east-1" } },
      required_providers: { aws: { version: ">= 5.100.0, < 6.0.0", source: "hashicorp/aws" } },
    },
    variable: { x: { type: "list(string)", default: [], nullable: false, validation: [{ error_message: "bad", condition: "${length(var.x) < 3}" }] } },
    resource: {
      terraform_data: {
        a: {
          input: { n: 1 },
          lifecycle: { create_before_destroy: true, ignore_changes: ["input"] },
          provisioner: [{ "local-exec": { command: "echo", when: "destroy", on_failure: "continue" } }],
          depends_on: ["terraform_data.b"],
          count: "${length(var.x)}",
        },
        b: {},
      },
    },
  };
  let hcl: string;
  let parsed: Json;
  beforeAll(async () => {
    hcl = renderDocument(document, NO_LAYOUT);
    parsed = (await parse("main.tf", hcl)) as Json;
  });

  it("THEN keywords, types and references are bare, and the blocks are blocks", () => {
    expect(hcl).toMatch(/^ {4}when += destroy$/m);
    expect(hcl).toMatch(/^ {4}on_failure += continue$/m);
    expect(hcl).toMatch(/^ {2}type += list\(string\)$/m);
    expect(hcl).toMatch(/^ {2}depends_on = \[terraform_data\.b\]$/m);
    expect(hcl).toMatch(/^ {4}ignore_changes += \[input\]$/m);
    expect(hcl).toContain('backend "s3" {');
    expect(hcl).toContain("resource \"terraform_data\" \"b\" {}");
  });
  it("THEN meta-arguments come first and the provider requirement names its source first", () => {
    expect(hcl).toMatch(/resource "terraform_data" "a" \{\n {2}count = length\(var\.x\)\n\n/);
    expect(hcl).toMatch(/aws = \{\n {6}source {2}= "hashicorp\/aws"\n {6}version = ">= 5\.100\.0, < 6\.0\.0"\n/);
  });
  it("THEN HCL's parser reads the same document back", () => {
    const [terraform] = parsed.terraform as Json[];
    expect(terraform.required_version).toBe(">= 1.11.0");
    expect((terraform.required_providers as Json[])[0]).toEqual({ aws: { source: "hashicorp/aws", version: ">= 5.100.0, < 6.0.0" } });
    const [variable] = (parsed.variable as Record<string, Json[]>).x;
    expect(variable).toMatchObject({ default: [], nullable: false, validation: [{ condition: "${length(var.x) < 3}", error_message: "bad" }] });
    const [a] = ((parsed.resource as Json).terraform_data as Record<string, Json[]>).a;
    expect(a).toMatchObject({ input: { n: 1 }, count: "${length(var.x)}", lifecycle: [{ create_before_destroy: true }] });
  });
  it("WHEN asked for a section HCL cannot hold here THEN it fails naming it", () => {
    expect(() => renderDocument({ module: {} }, NO_LAYOUT)).toThrow(/top-level "module"/);
    expect(() => renderDocument({ resource: { t: { a: { depends_on: ["not a reference"] } } } }, NO_LAYOUT)).toThrow(/not a reference/);
  });
});

/** Unformatted HCL that exercises every rule of the formatter. */
const MESSY = `locals {
a=1
bbb = [for value in var.x: can(regex("a", value))]
c = {"x"=1, y = [1,2]}
d = var.a[*].id
e = -1
f = !var.b
g = var.a ? 1 : -2
h = {
k = 1
longer_key = 2
}
j = <<EOT
  a \${ var.x }
EOT
kk = [
"\${var.y}-z",
]
l = a.b[0]
m = "$\${x} %%{y}"
n = {for k, v in var.m : k => v...}
o = jsonencode({"a" = aws_sqs_queue.q.arn, "b" = 3 - 1})
ü = 1
}
resource "a" "b" {
count = 2
lifecycle {
create_before_destroy = true
}
}
`;

describe("GIVEN the formatter (terraform fmt's whitespace rules)", () => {
  it("WHEN it formats its own output again THEN nothing changes", () => {
    const once = formatHcl(MESSY);
    expect(formatHcl(once)).toBe(once);
  });
  it("WHEN it meets a comment THEN it says it does not support them", () => {
    expect(() => formatHcl("# note\na = 1\n")).toThrow(/comments are not supported/);
  });
});

describeWithTerraform("Terraform gate: the formatter against terraform fmt", () => {
  it("WHEN unformatted HCL is formatted THEN the bytes are terraform fmt's", () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-fmt-"));
    writeFileSync(join(dir, "main.tf"), MESSY);
    terraformOk(dir, ["fmt", "-no-color", "main.tf"]);
    expect(formatHcl(MESSY)).toBe(readFileSync(join(dir, "main.tf"), "utf8"));
  });
});
