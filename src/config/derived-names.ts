/**
 * AWS names derived from a pool name. A pool name may be anything Prefect and prefect-aws accept
 * (letters, digits, - and _, up to 210 characters), which AWS names often do not allow as is
 * (ECR wants lower case, a rule at most 64 characters, stack folders must not start with -).
 */
import { createHash } from "node:crypto";
import { AwsFormatName, matches } from "./aws-formats";

/** Lower case, each run of other characters than a-z and 0-9 one `-`, no `-` at either end. */
export function poolSlug(pool: string): string {
  return (
    pool
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "pool"
  );
}

/**
 * `name(pool)` when AWS allows it (the names of earlier versions stay as they were); else
 * `name(slug)`; else `name(shortened slug + "-" + 6 hex digits of the pool's hash)`, which keeps
 * two long names that share a prefix apart.
 */
export function derivedName(pool: string, name: (pool: string) => string, formatName: AwsFormatName): string {
  for (const candidate of [pool, poolSlug(pool)]) {
    if (matches(formatName, name(candidate))) return name(candidate);
  }
  const slug = poolSlug(pool);
  const hash = createHash("sha256").update(pool).digest("hex").slice(0, 6);
  for (let length = slug.length - 1; length >= 0; length--) {
    const prefix = slug.slice(0, length).replace(/-+$/, "");
    const candidate = name(prefix ? `${prefix}-${hash}` : hash);
    if (matches(formatName, candidate)) return candidate;
  }
  // No pool-derived form fits this format: the caller reports it.
  return name(pool);
}

/** A name made of the pool name between a fixed prefix and suffix, fitting an AWS format. */
export interface PoolNameTemplate {
  readonly prefix: string;
  readonly suffix: string;
  readonly format: AwsFormatName;
}

const template = (prefix: string, suffix: string, format: AwsFormatName): PoolNameTemplate => ({ prefix, suffix, format });

/** The names a configuration derives from its pool name unless it sets them, by configuration field. */
export const POOL_NAME_TEMPLATES = {
  "eventsQueue.name": template("", "-events", "sqsQueueName"),
  "eventsQueue.deadLetterQueueName": template("", "-events-dlq", "sqsQueueName"),
  "eventsQueue.ruleName": template("", "-task-state-changes", "eventRuleName"),
  "logs.groupName": template("/ecs/prefect-worker/", "", "logGroupName"),
  "flowRunLogs.groupName": template("/ecs/prefect-flow-runs/", "", "logGroupName"),
  "ecr.repositoryName": template("", "-flows", "ecrRepositoryName"),
} as const satisfies Record<string, PoolNameTemplate>;

/** The SSM parameter a configuration creates for the credential unless it names one (secret.name). */
export function ssmSecretNameTemplate(environmentName: "PREFECT_API_KEY" | "PREFECT_API_AUTH_STRING"): PoolNameTemplate {
  return template("/prefect/", `/api/${environmentName === "PREFECT_API_AUTH_STRING" ? "auth-string" : "key"}`, "ssmParameterName");
}

/** A pool's name from a template, shortened as derivedName shortens it. */
export function nameFromTemplate(pool: string, { prefix, suffix, format }: PoolNameTemplate): string {
  return derivedName(pool, (p) => `${prefix}${p}${suffix}`, format);
}
