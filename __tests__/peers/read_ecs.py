"""Reads back from moto what reached ECS: every task definition and every task of a cluster, as JSON.

argv[1]: the cluster (name or ARN). Prints {"taskDefinitions": [...], "tasks": [...]} with the
DescribeTaskDefinition and DescribeTasks answers (tags included). AWS_ENDPOINT_URL, the region and fake keys
come from the environment.
"""

import json
import sys

import boto3


def main() -> None:
    cluster = sys.argv[1]
    ecs = boto3.client("ecs")
    definitions = [
        ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])["taskDefinition"]
        for arn in ecs.list_task_definitions()["taskDefinitionArns"]
    ]
    task_arns = ecs.list_tasks(cluster=cluster)["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=task_arns, include=["TAGS"])["tasks"] if task_arns else []
    json.dump({"taskDefinitions": definitions, "tasks": tasks}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
