"""Prints, as one JSON document, the upstream data our tests compare against, taken from the pinned
prefect and prefect-aws packages of this virtual environment (support/peers.ts caches the output):
  ecsDefaultTemplate      prefect-aws's ECS work pool default: ECSWorker.get_default_base_job_template()
  serverFallbackTemplate  the ECS template a self-hosted server hands out when it cannot reach the
                          collection registry: prefect/server/api/collections_data/views/
                          aggregate-worker-metadata.json ["prefect-aws"]["ecs"]["default_base_job_configuration"]
  openapi                 the server's OpenAPI document (create_app().openapi()), cut down to the
                          component schemas the work-pool routes use and what they reference
"""
import importlib.metadata
import json
import os

import prefect
from prefect.server.api.server import create_app
from prefect_aws.workers.ecs_worker import ECSWorker

WORK_POOL_SCHEMAS = ["WorkPoolCreate", "WorkPoolUpdate", "WorkPool", "WorkPoolResponse"]

metadata_file = os.path.join(
    os.path.dirname(prefect.__file__), "server", "api", "collections_data", "views", "aggregate-worker-metadata.json"
)
with open(metadata_file, encoding="utf-8") as handle:
    fallback = json.load(handle)["prefect-aws"]["ecs"]["default_base_job_configuration"]

document = create_app().openapi()
schemas = document["components"]["schemas"]
kept = {}


def collect(value):
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            keep(ref.rsplit("/", 1)[1])
        for inner in value.values():
            collect(inner)
    elif isinstance(value, list):
        for inner in value:
            collect(inner)


def keep(name):
    if name in kept or name not in schemas:
        return
    kept[name] = schemas[name]
    collect(schemas[name])


for name in WORK_POOL_SCHEMAS:
    keep(name)

print(
    json.dumps(
        {
            "versions": {name: importlib.metadata.version(name) for name in ["prefect", "prefect-aws"]},
            "ecsDefaultTemplate": ECSWorker.get_default_base_job_template(),
            "serverFallbackTemplate": fallback,
            "openapi": {"openapi": document["openapi"], "components": {"schemas": kept}},
        }
    )
)
