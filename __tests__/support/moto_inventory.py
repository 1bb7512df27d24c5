"""Prints, as JSON, what exists in moto's account for AWS_DEFAULT_REGION (test support, see moto-stack.ts).

Everything the stacks can create, read back through the AWS APIs with boto3 (endpoint from AWS_ENDPOINT_URL),
so a test compares what Terraform left in the emulator with what it should have, and with what was there before.
"""
import json

import boto3

iam = boto3.client("iam")
sqs = boto3.client("sqs")
events = boto3.client("events")
ecs = boto3.client("ecs")
ecr = boto3.client("ecr")
logs = boto3.client("logs")
secretsmanager = boto3.client("secretsmanager")
ssm = boto3.client("ssm")
ec2 = boto3.client("ec2")
s3 = boto3.client("s3")


def tag_map(tags, key="Key", value="Value"):
    return {tag[key]: tag[value] for tag in tags or []}


def trust_conditions(document):
    return [statement.get("Condition", {}) for statement in document.get("Statement", [])]


def trusted_services(document):
    services = []
    for statement in document.get("Statement", []):
        service = statement.get("Principal", {}).get("Service", [])
        services.extend([service] if isinstance(service, str) else service)
    return sorted(services)


roles = {}
for role in iam.list_roles()["Roles"]:
    name = role["RoleName"]
    roles[name] = {
        "trustedServices": trusted_services(role["AssumeRolePolicyDocument"]),
        "trustConditions": trust_conditions(role["AssumeRolePolicyDocument"]),
        "attachedPolicies": sorted(p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]),
        "inlinePolicies": {
            policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        },
        "tags": tag_map(iam.list_role_tags(RoleName=name)["Tags"]),
    }

policies = {}
for policy in iam.list_policies(Scope="Local")["Policies"]:
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
    policies[policy["PolicyName"]] = version["PolicyVersion"]["Document"]

queues = {}
for url in sqs.list_queues().get("QueueUrls", []):
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    queues[url.rsplit("/", 1)[1]] = {"attributes": attributes, "tags": sqs.list_queue_tags(QueueUrl=url).get("Tags", {})}

rules = {}
for rule in events.list_rules()["Rules"]:
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    rules[rule["Name"]] = {
        "eventPattern": json.loads(rule["EventPattern"]) if rule.get("EventPattern") else None,
        "state": rule["State"],
        "targets": [{"Id": t["Id"], "Arn": t["Arn"]} for t in targets],
        "tags": tag_map(events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]),
    }

clusters = {}
services = {}
cluster_arns = ecs.list_clusters()["clusterArns"]
for cluster in ecs.describe_clusters(clusters=cluster_arns, include=["SETTINGS"])["clusters"] if cluster_arns else []:
    clusters[cluster["clusterName"]] = {"status": cluster["status"], "settings": cluster.get("settings", [])}
    service_arns = ecs.list_services(cluster=cluster["clusterArn"])["serviceArns"]
    described = ecs.describe_services(cluster=cluster["clusterArn"], services=service_arns, include=["TAGS"]) if service_arns else {"services": []}
    for service in described["services"]:
        services[service["serviceName"]] = {
            "cluster": cluster["clusterName"],
            "status": service["status"],
            "desiredCount": service["desiredCount"],
            "launchType": service.get("launchType"),
            "taskDefinition": service["taskDefinition"],
            "networkConfiguration": service.get("networkConfiguration"),
            "tags": tag_map(service.get("tags"), "key", "value"),
        }

task_definitions = {}
for arn in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]:
    described = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    definition = described["taskDefinition"]
    task_definitions[f"{definition['family']}:{definition['revision']}"] = {
        "arn": arn,
        "family": definition["family"],
        "status": definition["status"],
        "cpu": definition.get("cpu"),
        "memory": definition.get("memory"),
        "networkMode": definition.get("networkMode"),
        "requiresCompatibilities": definition.get("requiresCompatibilities", []),
        "executionRoleArn": definition.get("executionRoleArn"),
        "taskRoleArn": definition.get("taskRoleArn"),
        "containerDefinitions": definition["containerDefinitions"],
        "volumes": definition.get("volumes", []),
        "tags": tag_map(described.get("tags"), "key", "value"),
    }

repositories = {}
for repository in ecr.describe_repositories()["repositories"]:
    try:
        lifecycle = json.loads(ecr.get_lifecycle_policy(repositoryName=repository["repositoryName"])["lifecyclePolicyText"])
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        lifecycle = None
    repositories[repository["repositoryName"]] = {
        "imageTagMutability": repository["imageTagMutability"],
        "lifecyclePolicy": lifecycle,
    }

log_groups = {
    group["logGroupName"]: {k: v for k, v in {"retentionInDays": group.get("retentionInDays")}.items() if v is not None}
    for group in logs.describe_log_groups()["logGroups"]
}

secrets = {}
for secret in secretsmanager.list_secrets(IncludePlannedDeletion=True)["SecretList"]:
    entry = {}
    if secret.get("DeletedDate"):
        entry["deletedDate"] = secret["DeletedDate"].isoformat()
    else:
        try:
            entry["value"] = secretsmanager.get_secret_value(SecretId=secret["ARN"])["SecretString"]
        except secretsmanager.exceptions.ResourceNotFoundException:
            pass  # created without a value
    secrets[secret["Name"]] = entry

parameters = {}
for parameter in ssm.describe_parameters()["Parameters"]:
    value = ssm.get_parameter(Name=parameter["Name"], WithDecryption=True)["Parameter"]["Value"]
    parameters[parameter["Name"]] = {"type": parameter["Type"], "value": value, **({"keyId": parameter["KeyId"]} if parameter.get("KeyId") else {})}

security_groups = {}
for group in ec2.describe_security_groups()["SecurityGroups"]:
    if group["GroupName"] == "default":
        continue
    security_groups[group["GroupName"]] = {
        "id": group["GroupId"],
        "vpcId": group.get("VpcId"),
        "ingress": group["IpPermissions"],
        "egress": [
            {k: v for k, v in rule.items() if k in ("IpProtocol", "FromPort", "ToPort")} for rule in group["IpPermissionsEgress"]
        ],
    }

buckets = {
    bucket["Name"]: sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []))
    for bucket in s3.list_buckets()["Buckets"]
}

print(
    json.dumps(
        {
            "roles": roles,
            "policies": policies,
            "queues": queues,
            "rules": rules,
            "clusters": clusters,
            "services": services,
            "taskDefinitions": task_definitions,
            "repositories": repositories,
            "logGroups": log_groups,
            "secrets": secrets,
            "parameters": parameters,
            "securityGroups": security_groups,
            "buckets": buckets,
        },
        default=str,
    )
)
