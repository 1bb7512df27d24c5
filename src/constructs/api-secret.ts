import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { ResolvedSecret } from "../config/resolve";
import { ssmParameterArn } from "./ssm-parameter-arn";

export interface WorkerApiSecretProps {
  readonly secret: ResolvedSecret;
  /** AWS partition (aws, aws-cn, ...), for ARNs built from a parameter name. */
  readonly partition: string;
  /** AWS region, for ARNs built from a parameter name and the kms:ViaService condition. */
  readonly region: string;
  /**
   * The credential, normally an ephemeral Terraform variable. It is written
   * through a write-only attribute, so it never reaches state or plan files.
   * Required when the secret is created with valueSource "ephemeral-variable".
   * @default undefined: the value is set outside Terraform
   */
  readonly value?: string;
  /**
   * Bump to write a new value through the write-only attribute.
   * @default 1
   */
  readonly valueVersion?: number;
  /**
   * Customer-managed KMS key of the secret, a literal or a Terraform reference; whether one is given
   * decides whether the read statements include kms:Decrypt on it.
   * @default secret.kmsKeyArn (none: the AWS-managed key)
   */
  readonly kmsKeyArn?: string;
  /**
   * secret.mode "existing": the secret's ARN or, when secret.existingParameterName is set, the SSM
   * parameter's name; a literal or a Terraform reference.
   * @default secret.existingArn ?? secret.existingParameterName
   */
  readonly existing?: string;
}

/**
 * Step 1 of the guide: the Prefect API key (or basic-auth string) in Secrets
 * Manager or SSM Parameter Store, created here or referenced.
 */
export class WorkerApiSecret extends Construct {
  /** ARN the worker container's `secrets[].valueFrom` and the execution role policy use. */
  public readonly arn: string;
  /** Environment variable the worker reads the credential from. */
  public readonly environmentName: string;
  /** What the execution role needs to read the secret (and decrypt it with a customer key). */
  public readonly readStatements: DataAwsIamPolicyDocumentStatement[];
  public readonly secretsManagerSecret?: SecretsmanagerSecret;
  public readonly secretsManagerSecretVersion?: SecretsmanagerSecretVersion;
  public readonly ssmParameter?: SsmParameter;

  constructor(scope: Construct, id: string, props: WorkerApiSecretProps) {
    super(scope, id);
    const { secret } = props;
    this.environmentName = secret.environmentName;
    const description = `Prefect ${secret.environmentName} of the ECS worker`;
    const versioned = secret.mode === "create" && secret.valueSource === "ephemeral-variable";
    if (versioned && props.value === undefined) {
      throw new Error(`WorkerApiSecret: secret.valueSource "ephemeral-variable" needs props.value (the ephemeral variable)`);
    }

    const kmsKeyArn = props.kmsKeyArn ?? secret.kmsKeyArn;
    // The shape (an ARN or a parameter's name) is the configuration's; the value may be a reference.
    const existingByArn = secret.existingArn !== undefined;
    const existing = props.existing ?? secret.existingArn ?? secret.existingParameterName;
    if (secret.mode === "existing") {
      if (existing === undefined) throw new Error("WorkerApiSecret: an existing secret needs its ARN or parameter name");
      this.arn = existingByArn ? existing : ssmParameterArn(this, props.partition, props.region, existing);
    } else if (secret.store === "secretsmanager") {
      this.secretsManagerSecret = new SecretsmanagerSecret(this, "secret", {
        name: secret.name,
        description,
        kmsKeyId: kmsKeyArn,
        recoveryWindowInDays: secret.recoveryWindowInDays,
      });
      this.secretsManagerSecret.overrideLogicalId("prefect_api_secret");
      if (versioned) {
        this.secretsManagerSecretVersion = new SecretsmanagerSecretVersion(this, "version", {
          secretId: this.secretsManagerSecret.id,
          secretStringWo: props.value,
          secretStringWoVersion: props.valueVersion ?? 1,
        });
        this.secretsManagerSecretVersion.overrideLogicalId("prefect_api_secret_value");
      }
      this.arn = this.secretsManagerSecret.arn;
    } else {
      this.ssmParameter = new SsmParameter(this, "parameter", {
        name: secret.name as string,
        description,
        type: "SecureString",
        keyId: kmsKeyArn,
        valueWo: props.value,
        valueWoVersion: props.valueVersion ?? 1,
      });
      this.ssmParameter.overrideLogicalId("prefect_api_secret");
      this.arn = this.ssmParameter.arn;
    }

    this.readStatements = [
      {
        sid: "ReadPrefectApiSecret",
        effect: "Allow",
        actions: [secret.store === "secretsmanager" ? "secretsmanager:GetSecretValue" : "ssm:GetParameters"],
        resources: [this.arn],
      },
    ];
    if (kmsKeyArn) {
      // Only for this secret, through its service: the encryption context is the one each service sets
      // (SecretARN for Secrets Manager, PARAMETER_ARN for Parameter Store).
      const secretsManager = secret.store === "secretsmanager";
      // An existing secret given by ARN may live in another region; its service endpoint is that region's.
      const region = existingByArn ? arnRegion(existing as string) : props.region;
      this.readStatements.push({
        sid: "DecryptPrefectApiSecret",
        effect: "Allow",
        actions: ["kms:Decrypt"],
        resources: [kmsKeyArn],
        condition: [
          {
            test: "StringEquals",
            variable: "kms:ViaService",
            values: [`${secretsManager ? "secretsmanager" : "ssm"}.${region}.amazonaws.com`],
          },
          {
            test: "StringEquals",
            variable: `kms:EncryptionContext:${secretsManager ? "SecretARN" : "PARAMETER_ARN"}`,
            values: [this.arn],
          },
        ],
      });
    }
  }
}

/** The region field of an ARN, a literal or a Terraform reference. */
function arnRegion(arn: string): string {
  return Token.isUnresolved(arn) ? Token.asString(Fn.element(Fn.split(":", arn), 3)) : arn.split(":")[3];
}
