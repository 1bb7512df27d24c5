/**
 * Specification of the ECS base job template the project sends to Prefect
 * and of the base-job-template helpers:
 * - ECS_BASE_JOB_TEMPLATE equals the pinned prefect-aws's own default template
 *   (`ECSWorker.get_default_base_job_template()`, dumped from the test peers'
 *   virtual environment, see support/peers.ts) in everything but the
 *   description texts, so a prefect-aws upgrade shows its changes as failing tests;
 * - placeholders are found as Prefect finds them and must be declared, as the
 *   server requires;
 * - pool defaults are set on the existing property schemas without changing
 *   anything else.
 */
import {
  BaseJobTemplate,
  placeholdersOf,
  undeclaredPlaceholders,
  validateBaseJobTemplate,
  withPoolDefaults,
} from "../src/work-pool/base-job-template";
import { ECS_BASE_JOB_TEMPLATE, ecsBaseJobTemplate } from "../src/work-pool/ecs-base-job-template";
import { describeWithPeers, prefectReference } from "./support/peers";

// ---------------------------------------------------------------- helpers

/**
 * `schema` without its `description` keywords, at any depth. Keys of
 * `properties` and `definitions` are names, not keywords, so a property
 * called "description" would be kept.
 */
function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (typeof schema !== "object" || schema === null) return schema;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "description") continue;
    result[key] =
      (key === "properties" || key === "definitions") && typeof value === "object" && value !== null && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([name, item]) => [name, withoutDescriptions(item)]))
        : withoutDescriptions(value);
  }
  return result;
}

/** Every string in `value` (keys included), with its path. */
function stringsIn(value: unknown, path = ""): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [
      [`${path}.${key} (key)`, key] as [string, string],
      ...stringsIn(item, `${path}.${key}`),
    ]);
  }
  return [];
}

/** Every `description` string of a schema, with its path. */
function descriptionsIn(schema: unknown, path = ""): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (value: unknown, at: string): void => {
    if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${at}[${i}]`));
    else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === "description" && typeof item === "string") found.set(at, item);
        else visit(item, `${at}.${key}`);
      }
    }
  };
  visit(schema, path);
  return found;
}

/** The guide's "Customize the base job template" example, applied to the ECS template. */
function guideCustomizedTemplate(): BaseJobTemplate {
  const template = ecsBaseJobTemplate();
  template.variables.properties.task_definition = {
    type: "object",
    title: "Task Definition",
    description: "Custom ECS task definition overrides",
    default: {},
  };
  template.job_configuration.task_definition = "{{ task_definition }}";
  return template;
}

const NETWORK_CONFIGURATION = {
  subnets: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
  securityGroups: ["sg-0123456789abcdef0"],
  assignPublicIp: "ENABLED",
};

// ---------------------------------------------------------------- the template against the pinned prefect-aws

describeWithPeers("Peer gate: ECS_BASE_JOB_TEMPLATE mirrors the pinned prefect-aws's own default", ["prefect"], () => {
  let reference: BaseJobTemplate;
  beforeAll(() => {
    reference = prefectReference().ecsDefaultTemplate as unknown as BaseJobTemplate;
  });

  test("GIVEN the pinned default template WHEN job_configuration is compared THEN it is exactly the same", () => {
    expect(ECS_BASE_JOB_TEMPLATE.job_configuration).toStrictEqual(reference.job_configuration);
    expect(Object.keys(ECS_BASE_JOB_TEMPLATE.job_configuration)).toEqual(Object.keys(reference.job_configuration));
  });

  test("GIVEN the pinned default template WHEN the variable names are listed THEN they are the same, in the same order", () => {
    expect(Object.keys(ECS_BASE_JOB_TEMPLATE.variables.properties)).toEqual(Object.keys(reference.variables.properties));
  });

  // Named after our variables: the test above fails when upstream adds or removes one.
  test.each(Object.keys(ECS_BASE_JOB_TEMPLATE.variables.properties))(
    "GIVEN variable %s WHEN its schema is compared without descriptions THEN it equals the pinned default's",
    (name) => {
      const ours: Record<string, unknown> = ECS_BASE_JOB_TEMPLATE.variables.properties;
      expect(withoutDescriptions(ours[name])).toStrictEqual(withoutDescriptions(reference.variables.properties[name]));
    },
  );

  test("GIVEN the pinned default template WHEN definitions are compared without descriptions THEN they are the same, in the same order", () => {
    const ours: Record<string, unknown> = ECS_BASE_JOB_TEMPLATE.variables.definitions;
    expect(Object.keys(ours)).toEqual(Object.keys(reference.variables.definitions ?? {}));
    expect(withoutDescriptions(ours)).toStrictEqual(withoutDescriptions(reference.variables.definitions));
  });

  test("GIVEN the pinned default template WHEN the whole variables schema is compared without descriptions THEN it is the same (type, required, every keyword)", () => {
    const ours: Record<string, unknown> = ECS_BASE_JOB_TEMPLATE.variables;
    expect(ours.required).toEqual(reference.variables.required);
    expect(ours.type).toBe(reference.variables.type);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(reference.variables).sort());
    expect(withoutDescriptions(ECS_BASE_JOB_TEMPLATE.variables)).toStrictEqual(withoutDescriptions(reference.variables));
  });

  test("GIVEN every schema that has a description in the pinned default WHEN ours is read THEN it has its own non-empty wording", () => {
    const theirs = descriptionsIn(reference.variables);
    const ours = descriptionsIn(ECS_BASE_JOB_TEMPLATE.variables);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [path, text] of ours) {
      expect({ path, empty: text.trim() === "", copied: text === theirs.get(path) }).toEqual({
        path,
        empty: false,
        copied: false,
      });
    }
  });

  test("GIVEN the pinned default template WHEN its placeholders are checked THEN each is a declared variable", () => {
    expect(undeclaredPlaceholders(reference)).toEqual([]);
  });
});

describeWithPeers("Peer gate: the pinned server's fallback ECS template", ["prefect"], () => {
  let serverFallback: BaseJobTemplate;
  beforeAll(() => {
    serverFallback = prefectReference().serverFallbackTemplate as unknown as BaseJobTemplate;
  });

  test("GIVEN the server-fallback template WHEN parsed THEN it is a template whose placeholders are all declared", () => {
    expect(validateBaseJobTemplate(serverFallback, "serverFallback")).toEqual([]);
    expect(undeclaredPlaceholders(serverFallback)).toEqual([]);
  });

  test("GIVEN the server-fallback template WHEN its variables are listed THEN it lacks the secret-ARN variables and still has the deprecated ones", () => {
    const names = Object.keys(serverFallback.variables.properties);
    expect(names).not.toContain("prefect_api_key_secret_arn");
    expect(names).not.toContain("prefect_api_auth_string_secret_arn");
    expect(placeholdersOf(serverFallback.job_configuration)).not.toContain("prefect_api_key_secret_arn");
    expect(names).toEqual(expect.arrayContaining(["stream_output", "task_start_timeout_seconds", "task_watch_poll_interval"]));
  });

  test("GIVEN a default for a variable the server-fallback template lacks WHEN applied THEN it throws naming the variable", () => {
    expect(() => withPoolDefaults(serverFallback, { prefect_api_key_secret_arn: "arn:aws:secretsmanager:..." })).toThrow(
      /prefect_api_key_secret_arn/,
    );
  });
});

describe("ECS_BASE_JOB_TEMPLATE", () => {
  test("GIVEN the guide's fields WHEN their defaults are read THEN they are unset (null) and launch_type is FARGATE", () => {
    const properties: Record<string, Record<string, unknown>> = ECS_BASE_JOB_TEMPLATE.variables.properties;
    for (const name of ["cluster", "vpc_id", "execution_role_arn", "task_role_arn", "prefect_api_key_secret_arn"]) {
      expect(properties[name].default).toBeNull();
    }
    expect(properties.network_configuration).not.toHaveProperty("default");
    expect(properties.launch_type.default).toBe("FARGATE");
    expect(properties.launch_type.enum).toEqual(["FARGATE", "EC2", "EXTERNAL", "FARGATE_SPOT"]);
    expect(properties.aws_credentials.$ref).toBe("#/definitions/AwsCredentials");
  });

  test("GIVEN the template WHEN every key and string is scanned THEN none contains ${ or %{ (Terraform template sequences)", () => {
    const offending = stringsIn(ECS_BASE_JOB_TEMPLATE).filter(([, text]) => text.includes("${") || text.includes("%{"));
    expect(offending).toEqual([]);
    expect(validateBaseJobTemplate(ecsBaseJobTemplate(), "workPool.baseJobTemplate")).toEqual([]);
  });

  test("GIVEN ecsBaseJobTemplate() WHEN the copy is changed THEN the constant and later copies are unchanged", () => {
    const first = ecsBaseJobTemplate();
    expect(first).toStrictEqual(JSON.parse(JSON.stringify(ECS_BASE_JOB_TEMPLATE)));
    first.variables.properties.cluster.default = "changed";
    (first.job_configuration.task_definition as Record<string, unknown>).cpu = 256;
    first.variables.definitions!.CapacityProvider.title = "changed";

    const properties: Record<string, Record<string, unknown>> = ECS_BASE_JOB_TEMPLATE.variables.properties;
    expect(properties.cluster.default).toBeNull();
    expect(ECS_BASE_JOB_TEMPLATE.job_configuration.task_definition.cpu).toBe("{{ cpu }}");
    expect(ECS_BASE_JOB_TEMPLATE.variables.definitions.CapacityProvider.title).toBe("CapacityProvider");
    expect(ecsBaseJobTemplate()).toStrictEqual(JSON.parse(JSON.stringify(ECS_BASE_JOB_TEMPLATE)));
  });
});

// ---------------------------------------------------------------- placeholders are declared

describe("every placeholder is declared", () => {
  test("GIVEN our template WHEN its placeholders are checked THEN each is a declared variable", () => {
    expect(undeclaredPlaceholders(ECS_BASE_JOB_TEMPLATE)).toEqual([]);
  });

  test("GIVEN our template WHEN its placeholders are listed THEN every declared variable is used and nothing else", () => {
    const placeholders = placeholdersOf(ECS_BASE_JOB_TEMPLATE.job_configuration);
    expect(placeholders).toEqual(Object.keys(ECS_BASE_JOB_TEMPLATE.variables.properties).sort());
  });
});

// ---------------------------------------------------------------- placeholdersOf

describe("placeholdersOf", () => {
  test("GIVEN placeholders with and without spaces WHEN listed THEN both are found", () => {
    expect(placeholdersOf({ a: "{{ cluster }}", b: "{{vpc_id}}", c: "{{  image\t}}" })).toEqual(["cluster", "image", "vpc_id"]);
  });

  test("GIVEN placeholders inside longer strings WHEN listed THEN each is found", () => {
    expect(placeholdersOf({ family: "prefix-{{ family }}-{{name}}.suffix" })).toEqual(["family", "name"]);
  });

  test("GIVEN placeholders nested in arrays and objects WHEN listed THEN they are found once each, sorted", () => {
    const jobConfiguration = {
      task_definition: { containerDefinitions: [{ image: "{{ image }}", name: "{{ container_name }}" }] },
      task_run_request: { overrides: { containerOverrides: [{ name: "{{ container_name }}", command: ["{{ command }}"] }] } },
      literal: 0,
      flag: false,
      nothing: null,
    };
    expect(placeholdersOf(jobConfiguration)).toEqual(["command", "container_name", "image"]);
  });

  test("GIVEN braces that are not placeholders WHEN listed THEN nothing is found", () => {
    expect(
      placeholdersOf({
        json: '{"a": {"b": 1}}',
        single: "{cluster}",
        empty: "{{}}",
        blank: "{{   }}",
        twoWords: "{{ a b }}",
        quoted: '{{ "cluster" }}',
        unclosed: "{{ cluster",
        terraform: "${var.cluster}",
      }),
    ).toEqual([]);
  });

  test("GIVEN dotted, block, Prefect-variable and environment placeholders WHEN listed THEN the whole name is kept, as Prefect and its server read it", () => {
    expect(
      placeholdersOf({
        image: "{{ build_image.image }}",
        key: "{{ prefect.blocks.secret.api-key }}",
        region: "{{ prefect.variables.region }}",
        home: "{{ $HOME }}",
        first: "{{ items[0] }}",
      }),
    ).toEqual(["$HOME", "build_image.image", "items[0]", "prefect.blocks.secret.api-key", "prefect.variables.region"]);
  });

  test("GIVEN a placeholder in an object key WHEN listed THEN it is found (the server scans the JSON text, keys included)", () => {
    expect(placeholdersOf({ "{{ key_name }}": "value" })).toEqual(["key_name"]);
  });
});

// ---------------------------------------------------------------- validateBaseJobTemplate

describe("validateBaseJobTemplate", () => {
  const FIELD = "workPool.baseJobTemplate";

  test("GIVEN {{ task_definition }} used in job_configuration but not declared WHEN validated THEN one problem names task_definition", () => {
    const template = ecsBaseJobTemplate();
    template.job_configuration.task_definition = "{{ task_definition }}";
    const problems = validateBaseJobTemplate(template, FIELD);
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe(`${FIELD}.job_configuration`);
    expect(problems[0].value).toEqual(["task_definition"]);
    expect(problems[0].message).toContain("task_definition");
    expect(problems[0].message).toContain("variables.properties");
    expect(problems[0].message).toContain("remove");
    expect(undeclaredPlaceholders(template)).toEqual(["task_definition"]);
  });

  test("GIVEN several undeclared placeholders WHEN validated THEN one problem names all of them", () => {
    const template = ecsBaseJobTemplate();
    template.job_configuration.extra = ["{{ zeta }}", { nested: "x-{{alpha}}" }];
    const problems = validateBaseJobTemplate(template, FIELD);
    expect(problems).toHaveLength(1);
    expect(problems[0].value).toEqual(["alpha", "zeta"]);
    expect(problems[0].message).toMatch(/alpha, zeta/);
  });

  test("GIVEN the guide's 'Customize the base job template' example WHEN validated THEN there is no problem", () => {
    const template = guideCustomizedTemplate();
    expect(validateBaseJobTemplate(template, FIELD)).toEqual([]);
    expect(undeclaredPlaceholders(template)).toEqual([]);
  });

  test.each([
    ["null", null],
    ["a string", "{}"],
    ["an array", [{ job_configuration: {}, variables: {} }]],
    ["a number", 42],
  ])("GIVEN %s instead of a template WHEN validated THEN one problem is on the field itself", (_label, value) => {
    const problems = validateBaseJobTemplate(value, FIELD);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ field: FIELD, value });
    expect(problems[0].message).toMatch(/object/);
  });

  test("GIVEN a template without variables WHEN validated THEN variables is reported", () => {
    const { job_configuration } = ecsBaseJobTemplate();
    const problems = validateBaseJobTemplate({ job_configuration }, FIELD);
    expect(problems.map((p) => p.field)).toEqual([`${FIELD}.variables`]);
  });

  test("GIVEN variables that are not an object WHEN validated THEN variables is reported", () => {
    const problems = validateBaseJobTemplate({ job_configuration: { a: "x" }, variables: ["cluster"] }, FIELD);
    expect(problems.map((p) => p.field)).toEqual([`${FIELD}.variables`]);
  });

  test("GIVEN variables without properties WHEN validated THEN variables.properties is reported", () => {
    const problems = validateBaseJobTemplate({ job_configuration: { a: "x" }, variables: { type: "object" } }, FIELD);
    expect(problems.map((p) => p.field)).toEqual([`${FIELD}.variables.properties`]);
  });

  test("GIVEN a property whose schema is not an object WHEN validated THEN that property is reported", () => {
    const problems = validateBaseJobTemplate(
      { job_configuration: { cluster: "{{ cluster }}" }, variables: { properties: { cluster: "string" } } },
      FIELD,
    );
    expect(problems.map((p) => p.field)).toEqual([`${FIELD}.variables.properties.cluster`]);
  });

  test("GIVEN a missing or empty job_configuration WHEN validated THEN job_configuration is reported", () => {
    const { variables } = ecsBaseJobTemplate();
    expect(validateBaseJobTemplate({ variables }, FIELD).map((p) => p.field)).toEqual([`${FIELD}.job_configuration`]);
    expect(validateBaseJobTemplate({ variables, job_configuration: {} }, FIELD).map((p) => p.field)).toEqual([
      `${FIELD}.job_configuration`,
    ]);
    expect(validateBaseJobTemplate({ variables, job_configuration: "{{ cluster }}" }, FIELD).map((p) => p.field)).toEqual([
      `${FIELD}.job_configuration`,
    ]);
  });

  test("GIVEN ${ in a job_configuration string WHEN validated THEN the problem is at that string's path and says why", () => {
    const template = ecsBaseJobTemplate();
    (template.job_configuration.task_definition as { family: string }).family = "prefect-${var.pool}";
    const problems = validateBaseJobTemplate(template, FIELD);
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe(`${FIELD}.job_configuration.task_definition.family`);
    expect(problems[0].value).toBe("prefect-${var.pool}");
    expect(problems[0].message).toContain("${");
    expect(problems[0].message).toContain("Terraform");
  });

  test("GIVEN %{ in a variable default and ${ in a key WHEN validated THEN both are reported", () => {
    const template = withPoolDefaults(ecsBaseJobTemplate(), { cloudwatch_logs_options: { "awslogs-group": "%{ if x }y%{ endif }" } });
    template.variables.properties.labels["${key}"] = true;
    const fields = validateBaseJobTemplate(template, FIELD).map((p) => p.field);
    expect(fields).toEqual([
      `${FIELD}.variables.properties.labels.\${key}`,
      `${FIELD}.variables.properties.cloudwatch_logs_options.default.awslogs-group`,
    ]);
  });

  test("GIVEN a value that is not JSON WHEN validated THEN it is reported at its path", () => {
    const template = ecsBaseJobTemplate();
    template.variables.properties.cpu.default = Number.NaN;
    template.job_configuration.when = new Date(0);
    const fields = validateBaseJobTemplate(template, FIELD).map((p) => p.field);
    expect(fields.sort()).toEqual([`${FIELD}.job_configuration.when`, `${FIELD}.variables.properties.cpu.default`]);
  });
});

// ---------------------------------------------------------------- withPoolDefaults

describe("withPoolDefaults", () => {
  const GUIDE_DEFAULTS = {
    cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/prefect-ecs-cluster",
    vpc_id: "vpc-0123456789abcdef0",
    execution_role_arn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    task_role_arn: "arn:aws:iam::123456789012:role/PrefectECSRunnerTaskRole",
    network_configuration: NETWORK_CONFIGURATION,
  };

  test("GIVEN the guide's fields WHEN applied THEN each property's top-level default is set, JSON objects included", () => {
    const result = withPoolDefaults(ECS_BASE_JOB_TEMPLATE, GUIDE_DEFAULTS);
    for (const [name, value] of Object.entries(GUIDE_DEFAULTS)) {
      expect(result.variables.properties[name].default).toEqual(value);
    }
    expect(result.variables.properties.network_configuration.default).toEqual({
      subnets: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
      securityGroups: ["sg-0123456789abcdef0"],
      assignPublicIp: "ENABLED",
    });
    expect(validateBaseJobTemplate(result, "t")).toEqual([]);
  });

  test("GIVEN the guide's fields WHEN applied THEN every property keeps its schema (type, title, description...) and only gains or changes default", () => {
    const before = ecsBaseJobTemplate();
    const result = withPoolDefaults(before, GUIDE_DEFAULTS);
    for (const [name, schema] of Object.entries(before.variables.properties)) {
      const { default: _after, ...rest } = result.variables.properties[name];
      const { default: _before, ...expected } = schema;
      expect(rest).toStrictEqual(expected);
      if (!(name in GUIDE_DEFAULTS)) expect(result.variables.properties[name]).toStrictEqual(schema);
    }
    expect(result.variables.properties.cluster).toMatchObject({
      anyOf: [{ type: "string" }, { type: "null" }],
      title: "Cluster",
      description: before.variables.properties.cluster.description,
    });
    expect(result.variables.properties.network_configuration).toMatchObject({ type: "object", title: "Network Configuration" });
    expect(result.job_configuration).toStrictEqual(before.job_configuration);
    expect(result.variables.definitions).toStrictEqual(before.variables.definitions);
    expect(Object.keys(result.variables.properties)).toEqual(Object.keys(before.variables.properties));
  });

  test("GIVEN a template WHEN defaults are applied THEN the input, the constant and the given values are not changed or shared", () => {
    const input = ecsBaseJobTemplate();
    const snapshot = JSON.parse(JSON.stringify(input));
    const network = JSON.parse(JSON.stringify(NETWORK_CONFIGURATION));
    const result = withPoolDefaults(input, { network_configuration: network, cluster: "c" });
    expect(input).toStrictEqual(snapshot);
    expect(ecsBaseJobTemplate()).toStrictEqual(snapshot);

    network.subnets.push("subnet-added-later");
    expect(result.variables.properties.network_configuration.default).toEqual(NETWORK_CONFIGURATION);
    result.variables.properties.vpc_id.title = "changed";
    expect(input.variables.properties.vpc_id.title).toBe("VPC ID");
  });

  test("GIVEN a default for a variable the template does not declare WHEN applied THEN it throws naming the variable", () => {
    expect(() => withPoolDefaults(ECS_BASE_JOB_TEMPLATE, { subnets: ["subnet-1"] })).toThrow(/"subnets"/);
    expect(() => withPoolDefaults(ECS_BASE_JOB_TEMPLATE, { toString: "x" })).toThrow(/"toString"/);
  });

  test("GIVEN a default that is not JSON WHEN applied THEN it throws naming the variable", () => {
    expect(() => withPoolDefaults(ECS_BASE_JOB_TEMPLATE, { cpu: undefined })).toThrow(/"cpu"/);
  });

  test("GIVEN no defaults WHEN applied THEN the result is an equal, separate copy", () => {
    const result = withPoolDefaults(ECS_BASE_JOB_TEMPLATE, {});
    expect(result).toStrictEqual(ecsBaseJobTemplate());
    expect(result.variables).not.toBe(ECS_BASE_JOB_TEMPLATE.variables);
  });
});
