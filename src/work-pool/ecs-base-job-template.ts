/**
 * The base job template of an ECS work pool (`type: ecs`), as the project
 * sends it to Prefect.
 *
 * It mirrors prefect-aws's `ECSWorker.get_default_base_job_template()` (0.7.11,
 * unchanged in 0.7.12, the version the tests pin): the same variable names and order, JSON
 * Schema types (anyOf/null forms, enums, `$ref`s into `definitions`),
 * defaults, titles and required lists, and exactly the same
 * `job_configuration`. Only the description texts are the project's own
 * (short, written for this project). A test
 * (`__tests__/ecs-base-job-template.test.ts`) compares it, descriptions
 * aside, with what the pinned prefect-aws test peer returns, so an upgrade
 * shows its changes as failing tests.
 *
 * No string in it contains a Terraform template sequence (dollar or percent
 * sign followed by an opening brace): the template ends up in Terraform
 * configuration, where those start interpolations and directives.
 */
import { BaseJobTemplate, cloneJson, DeepReadonly } from "./base-job-template";

/** The ECS base job template of prefect-aws 0.7.11/0.7.12 (read-only; use `ecsBaseJobTemplate()` for a copy to change). */
export const ECS_BASE_JOB_TEMPLATE = {
  job_configuration: {
    command: "{{ command }}",
    env: "{{ env }}",
    labels: "{{ labels }}",
    name: "{{ name }}",
    aws_credentials: "{{ aws_credentials }}",
    task_definition: {
      containerDefinitions: [
        {
          image: "{{ image }}",
          name: "{{ container_name }}",
        },
      ],
      cpu: "{{ cpu }}",
      executionRoleArn: "{{ execution_role_arn }}",
      family: "{{ family }}",
      memory: "{{ memory }}",
    },
    task_run_request: {
      capacityProviderStrategy: "{{ capacity_provider_strategy }}",
      cluster: "{{ cluster }}",
      launchType: "{{ launch_type }}",
      overrides: {
        containerOverrides: [
          {
            command: "{{ command }}",
            cpu: "{{ cpu }}",
            environment: "{{ env }}",
            memory: "{{ memory }}",
            name: "{{ container_name }}",
          },
        ],
        cpu: "{{ cpu }}",
        memory: "{{ memory }}",
        taskRoleArn: "{{ task_role_arn }}",
      },
      tags: "{{ labels }}",
      taskDefinition: "{{ task_definition_arn }}",
    },
    configure_cloudwatch_logs: "{{ configure_cloudwatch_logs }}",
    cloudwatch_logs_options: "{{ cloudwatch_logs_options }}",
    cloudwatch_logs_prefix: "{{ cloudwatch_logs_prefix }}",
    network_configuration: "{{ network_configuration }}",
    stream_output: false,
    task_start_timeout_seconds: 0,
    task_watch_poll_interval: 0,
    auto_deregister_task_definition: "{{ auto_deregister_task_definition }}",
    vpc_id: "{{ vpc_id }}",
    container_name: "{{ container_name }}",
    cluster: "{{ cluster }}",
    match_latest_revision_in_family: "{{ match_latest_revision_in_family }}",
    prefect_api_key_secret_arn: "{{ prefect_api_key_secret_arn }}",
    prefect_api_auth_string_secret_arn: "{{ prefect_api_auth_string_secret_arn }}",
    execution_role_arn: "{{ execution_role_arn }}",
  },
  variables: {
    description: "Job variables of an ECS work pool: each property is one variable, its default the work-pool default.",
    properties: {
      name: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Name of the infrastructure the worker creates for a flow run.",
        title: "Name",
      },
      env: {
        additionalProperties: {
          anyOf: [
            {
              type: "string",
            },
            {
              type: "null",
            },
          ],
        },
        description: "Environment variables set on the flow-run container when the task starts (not on the task definition); a null value unsets one.",
        title: "Environment Variables",
        type: "object",
      },
      labels: {
        additionalProperties: {
          type: "string",
        },
        description: "Labels of the infrastructure; they become tags of the ECS task.",
        title: "Labels",
        type: "object",
      },
      command: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Command that starts the flow run; leave it blank and the worker generates it.",
        title: "Command",
      },
      task_definition_arn: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "ARN of an existing task definition to run; when set, the task_definition template and the options that change it are ignored.",
        title: "Task Definition ARN",
      },
      aws_credentials: {
        "$ref": "#/definitions/AwsCredentials",
        description: "AWS credentials block the worker uses to call ECS; empty means the default boto3 credential chain (the worker's task role).",
        title: "AWS Credentials",
      },
      cluster: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "ECS cluster (name or ARN) that runs the task; unset means the account's default cluster.",
        title: "Cluster",
      },
      family: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Family of the registered task definition; unset means a name built from the work pool and the deployment.",
        title: "Family",
      },
      launch_type: {
        default: "FARGATE",
        description: "ECS launch type of the task; FARGATE_SPOT runs it with the FARGATE_SPOT capacity provider.",
        enum: [
          "FARGATE",
          "EC2",
          "EXTERNAL",
          "FARGATE_SPOT",
        ],
        title: "Launch Type",
        type: "string",
      },
      capacity_provider_strategy: {
        description: "Capacity provider strategy of the task; when set, the launch type is not sent.",
        items: {
          "$ref": "#/definitions/CapacityProvider",
        },
        title: "Capacity Provider Strategy",
        type: "array",
      },
      image: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Container image of the flow-run container; unset means the prefecthq/prefect image of the worker's Prefect and Python versions.",
        title: "Image",
      },
      cpu: {
        anyOf: [
          {
            type: "integer",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "CPU units of the task (a value Fargate accepts); unset means 1024 unless the task definition sets it.",
        title: "CPU",
      },
      memory: {
        anyOf: [
          {
            type: "integer",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Memory of the task in MiB; unset means 2048 unless the task definition sets it.",
        title: "Memory",
      },
      container_name: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Name of the container that runs the flow; unset means prefect, or else the first container of the task definition.",
        title: "Container Name",
      },
      prefect_api_key_secret_arn: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "ARN of a Secrets Manager secret holding a Prefect API key, given to the flow-run container as PREFECT_API_KEY; the execution role must be able to read it.",
        title: "Prefect API Key Secret ARN",
      },
      prefect_api_auth_string_secret_arn: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "ARN of a Secrets Manager secret holding the basic-auth string of a self-hosted Prefect server, given to the flow-run container as PREFECT_API_AUTH_STRING.",
        title: "Prefect API Auth String Secret ARN",
      },
      task_role_arn: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "IAM role the running task assumes (the flow run's AWS permissions); the worker needs iam:PassRole on it.",
        title: "Task Role ARN",
      },
      execution_role_arn: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "IAM role ECS uses to start the task: pull private images, write CloudWatch logs, read secrets.",
        title: "Execution Role ARN",
      },
      vpc_id: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "VPC of the task's awsvpc network; unset means the default VPC. Needed when network_configuration is set.",
        title: "VPC ID",
      },
      configure_cloudwatch_logs: {
        anyOf: [
          {
            type: "boolean",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Send the container's output to CloudWatch Logs (off by default); the execution role needs logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents.",
        title: "Configure Cloudwatch Logs",
      },
      cloudwatch_logs_options: {
        additionalProperties: {
          type: "string",
        },
        description: "Extra awslogs log driver options (such as awslogs-group), merged over the defaults when configure_cloudwatch_logs is on.",
        title: "Cloudwatch Logs Options",
        type: "object",
      },
      cloudwatch_logs_prefix: {
        anyOf: [
          {
            type: "string",
          },
          {
            type: "null",
          },
        ],
        default: null,
        description: "Log stream prefix when configure_cloudwatch_logs is on; unset means one built from the work pool and the deployment. Ignored if cloudwatch_logs_options sets awslogs-stream-prefix.",
        title: "Cloudwatch Logs Prefix",
      },
      network_configuration: {
        additionalProperties: true,
        description: "The task's awsvpcConfiguration: subnets, securityGroups and assignPublicIp (ENABLED or DISABLED); the subnets must belong to vpc_id.",
        title: "Network Configuration",
        type: "object",
      },
      auto_deregister_task_definition: {
        default: false,
        description: "Deregister (mark INACTIVE) the task definitions the worker registered once their task has stopped; definitions given by ARN are never deregistered.",
        title: "Auto Deregister Task Definition",
        type: "boolean",
      },
      match_latest_revision_in_family: {
        default: false,
        description: "Reuse the latest ACTIVE revision of the family when it equals the wanted task definition instead of registering a new revision.",
        title: "Match Latest Revision In Family",
        type: "boolean",
      },
    },
    type: "object",
    definitions: {
      AssumeRoleParameters: {
        description: "Parameters of the STS AssumeRole call.",
        properties: {
          RoleSessionName: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Session name of the assumed role; generated when unset.",
            title: "Role Session Name",
          },
          DurationSeconds: {
            anyOf: [
              {
                type: "integer",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Session duration in seconds, from 900 to 43200.",
            title: "Duration Seconds",
          },
          Policy: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Inline session policy, as IAM policy JSON.",
            title: "Policy",
          },
          PolicyArns: {
            anyOf: [
              {
                items: {
                  additionalProperties: {
                    type: "string",
                  },
                  type: "object",
                },
                type: "array",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Managed session policies, as objects with an arn key.",
            title: "Policy ARNs",
          },
          Tags: {
            anyOf: [
              {
                items: {
                  additionalProperties: {
                    type: "string",
                  },
                  type: "object",
                },
                type: "array",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Session tags, as objects with Key and Value.",
            title: "Tags",
          },
          TransitiveTagKeys: {
            anyOf: [
              {
                items: {
                  type: "string",
                },
                type: "array",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Keys of the session tags that carry over to chained roles.",
            title: "Transitive Tag Keys",
          },
          ExternalId: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "External ID that the role's trust policy asks for.",
            title: "External ID",
          },
          SerialNumber: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Serial number (or ARN) of the caller's MFA device.",
            title: "Serial Number",
          },
          TokenCode: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Current code of the MFA device.",
            title: "Token Code",
          },
          SourceIdentity: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Source identity of the caller.",
            title: "Source Identity",
          },
          ProvidedContexts: {
            anyOf: [
              {
                items: {
                  additionalProperties: {
                    type: "string",
                  },
                  type: "object",
                },
                type: "array",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Context assertions, as objects with ProviderArn and ContextAssertion.",
            title: "Provided Contexts",
          },
        },
        title: "AssumeRoleParameters",
        type: "object",
      },
      AwsClientParameters: {
        description: "Extra parameters of the boto3 clients.",
        properties: {
          api_version: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "API version of the client; unset means the latest.",
            title: "API Version",
          },
          use_ssl: {
            default: true,
            description: "Connect with SSL.",
            title: "Use SSL",
            type: "boolean",
          },
          verify: {
            anyOf: [
              {
                type: "boolean",
              },
              {
                format: "file-path",
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Check SSL certificates; a CA bundle path is still accepted here but verify_cert_path is the place for it.",
            title: "Verify",
          },
          verify_cert_path: {
            anyOf: [
              {
                format: "file-path",
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "CA bundle used to check SSL certificates.",
            title: "Certificate Authority Bundle File Path",
          },
          endpoint_url: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Endpoint URL to call instead of the default one.",
            title: "Endpoint URL",
          },
          config: {
            anyOf: [
              {
                additionalProperties: true,
                type: "object",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "botocore Config options.",
            title: "Botocore Config",
          },
        },
        title: "AwsClientParameters",
        type: "object",
      },
      AwsCredentials: {
        block_schema_references: {},
        block_type_slug: "aws-credentials",
        description: "AWS credentials block (aws-credentials); fields left unset fall back to the boto3 default credential chain.",
        properties: {
          aws_access_key_id: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Access key ID.",
            title: "AWS Access Key ID",
          },
          aws_secret_access_key: {
            anyOf: [
              {
                format: "password",
                type: "string",
                writeOnly: true,
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Secret access key.",
            title: "AWS Access Key Secret",
          },
          aws_session_token: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Session token, for temporary credentials.",
            title: "AWS Session Token",
          },
          profile_name: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "Named profile of the AWS config files.",
            title: "Profile Name",
          },
          region_name: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "AWS Region of the clients.",
            title: "Region Name",
          },
          aws_client_parameters: {
            "$ref": "#/definitions/AwsClientParameters",
            description: "Extra parameters of the boto3 clients.",
            title: "AWS Client Parameters",
          },
          assume_role_arn: {
            anyOf: [
              {
                type: "string",
              },
              {
                type: "null",
              },
            ],
            default: null,
            description: "ARN of an IAM role to assume.",
            title: "Assume Role ARN",
          },
          assume_role_kwargs: {
            "$ref": "#/definitions/AssumeRoleParameters",
            description: "Extra parameters of the AssumeRole call.",
            title: "Assume Role Parameters",
          },
        },
        secret_fields: [
          "aws_secret_access_key",
        ],
        title: "AwsCredentials",
        type: "object",
      },
      CapacityProvider: {
        description: "One entry of an ECS capacity provider strategy.",
        properties: {
          capacityProvider: {
            title: "Capacityprovider",
            type: "string",
          },
          weight: {
            title: "Weight",
            type: "integer",
          },
          base: {
            title: "Base",
            type: "integer",
          },
        },
        required: [
          "capacityProvider",
          "weight",
          "base",
        ],
        title: "CapacityProvider",
        type: "object",
      },
    },
  },
} as const satisfies DeepReadonly<BaseJobTemplate>;

/** A fresh, mutable deep copy of `ECS_BASE_JOB_TEMPLATE`. */
export function ecsBaseJobTemplate(): BaseJobTemplate {
  return cloneJson(ECS_BASE_JOB_TEMPLATE as DeepReadonly<BaseJobTemplate> as BaseJobTemplate, "ECS base job template");
}
