"""The simulated district ("the lab"): real SNMP agents (snmpsim) for every active device, plus Prometheus.

``nms lab up|down|status`` call :func:`lab_up`, :func:`lab_down` and :func:`lab_status`; the lab lives
in a run directory (default ``run/lab``). Tests start agents for a few devices with :func:`start_agents`.
"""

from nms.lab.agents import AgentSet, AgentSpec, start_agents
from nms.lab.control import DEFAULT_RUN_DIR, lab_down, lab_status, lab_up
from nms.lab.errors import LabError
from nms.lab.options import LabOptions
from nms.lab.state import LabState

__all__ = ["DEFAULT_RUN_DIR", "AgentSet", "AgentSpec", "LabError", "LabOptions", "LabState", "lab_down",
           "lab_status", "lab_up", "start_agents"]
