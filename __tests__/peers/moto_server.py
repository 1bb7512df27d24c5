"""moto's server (`moto_server`, same arguments) with one fix for the tests: RunTask of a Fargate task definition.

moto 5.2.5 sums the container-level memory of a task definition to place a task; a Fargate task definition
(as the prefect-aws worker registers it) sets memory only at task level, so the sum is `0 + None` and RunTask
answers 500. Here a container without memory counts as 0 and a task without container memory takes the task
level's. Drop this file when a moto release fixes `_calculate_task_resource_requirements`.
"""

from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend
from moto.server import main

MEMORY_KEYS = ("memory", "memoryReservation", "Memory", "MemoryReservation")
_original = EC2ContainerServiceBackend._calculate_task_resource_requirements


class _WithContainerMemory:
    """The task definition as moto reads it, with a container's missing memory as 0."""

    def __init__(self, task_definition: Any) -> None:
        self.container_definitions = [
            container if any(container.get(key) is not None for key in MEMORY_KEYS) else {**container, "memory": 0}
            for container in task_definition.container_definitions
        ]


def _calculate_task_resource_requirements(task_definition: Any) -> dict[str, Any]:
    requirements = _original(_WithContainerMemory(task_definition))
    if requirements["MEMORY"] == 0 and getattr(task_definition, "memory", None):
        requirements["MEMORY"] = int(task_definition.memory)
    return requirements


EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(_calculate_task_resource_requirements)

if __name__ == "__main__":
    main()
