"""Seeds moto with what a work pool's flow runs need, as the AWS stack would create it; prints the stack's outputs.

Reads a JSON object from stdin: cluster_name, security_group_name, execution_role_name (the worker's; the flow
runs' own execution role is named after it with "-flow-runs"), task_role_name, secret_name, log_group_name. Uses
moto's default VPC and its first two subnets. Prints the AWS stack's outputs (cluster_arn, vpc_id, subnet_ids,
security_group_ids, execution_role_arn, flow_run_execution_role_arn, flow_run_task_role_arn, secret_arn,
flow_run_log_group_name) as JSON. AWS_ENDPOINT_URL, the region and fake keys come from the environment.
"""

import json
import sys

import boto3

ECS_TASKS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def main() -> None:
    names = json.load(sys.stdin)
    ec2, ecs, iam = boto3.client("ec2"), boto3.client("ecs"), boto3.client("iam")
    secrets, logs = boto3.client("secretsmanager"), boto3.client("logs")

    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    subnet_ids = sorted(subnet["SubnetId"] for subnet in subnets)[:2]
    group_id = ec2.create_security_group(
        GroupName=names["security_group_name"], Description="flow runs", VpcId=vpc_id
    )["GroupId"]
    cluster_arn = ecs.create_cluster(clusterName=names["cluster_name"])["cluster"]["clusterArn"]
    role_arn = lambda name: iam.create_role(RoleName=name, AssumeRolePolicyDocument=ECS_TASKS_TRUST)["Role"]["Arn"]
    secret_arn = secrets.create_secret(Name=names["secret_name"], SecretString="not-a-real-credential")["ARN"]
    logs.create_log_group(logGroupName=names["log_group_name"])

    json.dump(
        {
            "cluster_arn": cluster_arn,
            "vpc_id": vpc_id,
            "subnet_ids": subnet_ids,
            "security_group_ids": [group_id],
            "execution_role_arn": role_arn(names["execution_role_name"]),
            "flow_run_execution_role_arn": role_arn(names["execution_role_name"] + "-flow-runs"),
            "flow_run_task_role_arn": role_arn(names["task_role_name"]),
            "secret_arn": secret_arn,
            "flow_run_log_group_name": names["log_group_name"],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
