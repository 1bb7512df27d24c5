/**
 * Formats of AWS identifiers, written once and used twice: by the synth-time
 * configuration validator and by the Terraform variable validation blocks.
 * Every pattern is a plain RE2-compatible expression so Terraform's `regex`
 * accepts it too; JavaScript compiles them with the `u` flag (for `\p{L}`).
 */

const PARTITION = "aws(-cn|-us-gov|-iso|-iso-[a-z])?";
const REGION = "[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]";
const ACCOUNT = "[0-9]{12}";

export interface IdFormat {
  /** Anchored pattern, valid in JavaScript (with the `u` flag) and in Terraform (RE2). */
  readonly pattern: string;
  /** What is allowed, in words, for error messages. */
  readonly allowed: string;
  /**
   * Length bounds checked besides the pattern, where the pattern cannot say them
   * (RE2 has no lookahead). A Terraform validation of such a format needs a length() check too.
   */
  readonly minLength?: number;
  readonly maxLength?: number;
}

function format(pattern: string, allowed: string, length?: { min: number; max: number }): IdFormat {
  return length ? { pattern: `^${pattern}$`, allowed, minLength: length.min, maxLength: length.max } : { pattern: `^${pattern}$`, allowed };
}

/** Characters AWS allows in tag keys and values: letters, digits, spaces and _ . : / = + - @ (any script). */
const TAG_CHARACTERS = "[\\p{L}\\p{Z}\\p{N}_.:/=+@-]";
const TAG_CHARACTERS_IN_WORDS = "letters, digits, spaces and _ . : / = + - @";

/**
 * The longest work pool name: prefect-aws names each flow run's task-definition family
 * `prefect_<pool>_<deployment id>` without cleaning it, and ECS allows 255 characters there, less
 * `prefect_`, `_` and a 36-character deployment id.
 */
export const MAX_POOL_NAME_LENGTH = 255 - "prefect_".length - 1 - 36;

export const AWS_FORMATS = {
  region: format(REGION, "an AWS region such as us-east-1 or eu-west-2"),
  vpcId: format("vpc-([0-9a-f]{8}|[0-9a-f]{17})", "a VPC ID: vpc- followed by 8 or 17 hex digits"),
  subnetId: format("subnet-([0-9a-f]{8}|[0-9a-f]{17})", "a subnet ID: subnet- followed by 8 or 17 hex digits"),
  securityGroupId: format("sg-([0-9a-f]{8}|[0-9a-f]{17})", "a security group ID: sg- followed by 8 or 17 hex digits"),
  secretsManagerSecretArn: format(
    `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}`,
    "the full ARN of a Secrets Manager secret, including the 6-character suffix AWS appends " +
      "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)",
  ),
  ssmParameterArn: format(
    `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter/[A-Za-z0-9/_.-]+`,
    "the ARN of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)",
  ),
  secretsManagerSecretName: format("[A-Za-z0-9/_+=.@-]{1,512}", "1 to 512 letters, digits and / _ + = . @ -"),
  ssmParameterName: format(
    "/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*",
    "an SSM parameter name made of letters, digits, _ . - separated by / (for example /prefect/my-ecs-pool/api/key)",
  ),
  kmsKeyArn: format(
    `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`,
    "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>); aliases are not allowed because IAM grants kms:Decrypt on keys",
  ),
  ecsClusterArn: format(
    `arn:${PARTITION}:ecs:${REGION}:${ACCOUNT}:cluster/[A-Za-z0-9_-]{1,255}`,
    "an ECS cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)",
  ),
  ecsClusterName: format("[A-Za-z0-9_-]{1,255}", "1 to 255 letters, digits, hyphens and underscores"),
  iamRoleName: format("[A-Za-z0-9+=,.@_-]{1,64}", "1 to 64 letters, digits and + = , . @ _ -"),
  iamPolicyName: format("[A-Za-z0-9+=,.@_-]{1,128}", "1 to 128 letters, digits and + = , . @ _ -"),
  s3BucketName: format(
    "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
    "an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens",
  ),
  sqsQueueName: format("[A-Za-z0-9_-]{1,80}", "1 to 80 letters, digits, hyphens and underscores"),
  eventRuleName: format("[A-Za-z0-9._-]{1,64}", "1 to 64 letters, digits, dots, hyphens and underscores"),
  ecrRepositoryName: format(
    "[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*",
    "lowercase letters and digits, separated by single . _ - or /",
    { min: 2, max: 256 },
  ),
  logGroupName: format("[A-Za-z0-9_/.#-]{1,512}", "1 to 512 letters, digits and _ / . # -"),
  ecsName: format("[A-Za-z0-9_-]{1,255}", "1 to 255 letters, digits, hyphens and underscores"),
  imageRepository: format(
    "[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*",
    "an image repository without tag or digest, such as prefecthq/prefect-aws or 123456789012.dkr.ecr.us-east-1.amazonaws.com/prefect",
  ),
  imageTag: format("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag: up to 128 letters, digits, _ . - (not starting with . or -)"),
  iamResource: format(
    "(\\*|arn:[^:]+:[^:]+:[^:]*:[^:]*:.+)",
    '"*" or an ARN: starting with arn: and having at least 6 colon-separated parts, ' +
      "arn:<partition>:<service>:<region>:<account>:<resource> (for example arn:aws:s3:::my-bucket/*)",
  ),
  tagKey: format(
    `${TAG_CHARACTERS}{1,128}`,
    `an AWS tag key: 1 to 128 ${TAG_CHARACTERS_IN_WORDS}, not starting with aws: (in any case)`,
  ),
  tagValue: format(`${TAG_CHARACTERS}{0,256}`, `an AWS tag value: at most 256 ${TAG_CHARACTERS_IN_WORDS}`),
  iamAction: format("[a-z0-9-]+:[A-Za-z0-9*]+", "an IAM action such as s3:GetObject (service prefix, colon, action name)"),
  workPoolName: format(
    `[A-Za-z0-9_-]{1,${MAX_POOL_NAME_LENGTH}}`,
    `a work pool name: 1 to ${MAX_POOL_NAME_LENGTH} letters A-Z a-z, digits, - and _ (prefect-aws puts it into each flow run's task-definition family)`,
  ),
  prefectCloudWorkspaceUrl: format(
    "https://api\\.prefect\\.cloud/api/accounts/[0-9a-f-]{36}/workspaces/[0-9a-f-]{36}",
    "a Prefect Cloud workspace API URL: https://api.prefect.cloud/api/accounts/<account-id>/workspaces/<workspace-id>",
  ),
  selfHostedApiUrl: format(
    "https?://[^/\\s]+(/[^\\s]*)?/api",
    "the http(s) URL of a self-hosted Prefect server's API, ending in /api (for example http://prefect.internal:4200/api)",
  ),
} as const satisfies Record<string, IdFormat>;

export type AwsFormatName = keyof typeof AWS_FORMATS;

export function matches(formatName: AwsFormatName, value: string): boolean {
  const { minLength, maxLength } = AWS_FORMATS[formatName] as IdFormat;
  if (minLength !== undefined && value.length < minLength) return false;
  if (maxLength !== undefined && value.length > maxLength) return false;
  return formatRegExp(formatName).test(value);
}

/** What a format allows, in words, its length bounds included: for messages. */
export function describeFormat(formatName: AwsFormatName): string {
  const { allowed, minLength, maxLength } = AWS_FORMATS[formatName] as IdFormat;
  if (minLength === undefined && maxLength === undefined) return allowed;
  const length =
    minLength !== undefined && maxLength !== undefined
      ? `${minLength} to ${maxLength} characters`
      : minLength !== undefined
        ? `at least ${minLength} characters`
        : `at most ${maxLength} characters`;
  return `${length}: ${allowed}`;
}

/** The JavaScript RegExp of a format's pattern. */
export function formatRegExp(formatName: AwsFormatName): RegExp {
  return new RegExp(AWS_FORMATS[formatName].pattern, "u");
}

/** AWS reserves tag keys starting with aws: (any case); users cannot set them. */
export function isReservedTagKey(key: string): boolean {
  return key.toLowerCase().startsWith("aws:");
}

/** Tags a resource may carry in AWS. */
export const AWS_MAX_TAGS_PER_RESOURCE = 50;

/**
 * Valid Fargate task sizes: CPU units → allowed memory in MiB.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

export function describeFargateMemory(cpu: number): string {
  const allowed = FARGATE_MEMORY_BY_CPU[cpu];
  if (!allowed) return `CPU must be one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")}`;
  return `with ${cpu} CPU units memory must be one of ${allowed.join(", ")} MiB`;
}

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
