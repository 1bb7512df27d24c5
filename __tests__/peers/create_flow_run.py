"""Creates deployments on a work pool and one flow run of each through the real Prefect client; prints their ids.

Reads a JSON object from stdin: work_pool_name, flow_name and deployments, a list of {name, job_variables}
(job_variables: the deployment's overrides, may be empty). The server and its credentials come from the
environment (PREFECT_API_URL, PREFECT_API_AUTH_STRING or PREFECT_API_KEY). Prints a JSON list, one
{"flow_id", "deployment_id", "flow_run_id"} per deployment, in order.
"""

import asyncio
import json
import sys

from prefect.client.orchestration import get_client


async def main() -> None:
    spec = json.load(sys.stdin)
    created = []
    async with get_client() as client:
        flow_id = await client.create_flow_from_name(spec["flow_name"])
        for deployment in spec["deployments"]:
            deployment_id = await client.create_deployment(
                flow_id=flow_id,
                name=deployment["name"],
                work_pool_name=spec["work_pool_name"],
                job_variables=deployment.get("job_variables") or {},
                entrypoint="flows.py:main",
            )
            flow_run = await client.create_flow_run_from_deployment(deployment_id)
            created.append({"flow_id": str(flow_id), "deployment_id": str(deployment_id), "flow_run_id": str(flow_run.id)})
    json.dump(created, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
