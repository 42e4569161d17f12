"""The simulated district ("the lab"): real SNMP agents (snmpsim) for every active device, plus Prometheus.

``python -m lab up|down|status`` call :func:`lab_up`, :func:`lab_down` and :func:`lab_status`; the lab lives
in a run directory (default ``run/lab``). Tests start agents for a few devices with :func:`start_agents`.
"""

from lab.agents import AgentSet, AgentSpec, start_agents
from lab.control import DEFAULT_RUN_DIR, lab_down, lab_status, lab_up
from lab.errors import LabError
from lab.options import LabOptions
from lab.state import LabState

__all__ = ["DEFAULT_RUN_DIR", "AgentSet", "AgentSpec", "LabError", "LabOptions", "LabState", "lab_down",
           "lab_status", "lab_up", "start_agents"]
