"""The lab's staff: simulated phones that ring and answer, and the lab's own copy of ivr.yaml that calls them.

Each department's phone (``PJSIP/2301``) becomes ``Local/2301@nms-lab-staff/n``, a dialplan staff member
(:data:`STAFF_DIALPLAN`). The shipped ivr.yaml and its production rendering are not touched.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from ivr.config import Department, IvrConfig

STAFF_CONTEXT = "nms-lab-staff"
CALLER_CONTEXT = "nms-lab-caller"

#: Simulated staff phones and the callers' own end of each call. Staff ring 1-6 s and answer;
#: 3 calls in 100 find nobody at the desk (the IVR's ring timeout ends them as unanswered).
STAFF_DIALPLAN = f"""\
; Lab only: simulated staff phones and callers (lab/calls/). Not part of production.
[{STAFF_CONTEXT}]
exten => _X.,1,Ringing()
 same => n,GotoIf($[${{RAND(1,100)}} <= 3]?away)
 same => n,Wait(${{RAND(1,6)}})
 same => n,Answer()
 same => n,Wait(3600)
 same => n,Hangup()
 same => n(away),Wait(600)
 same => n,Hangup()

[{CALLER_CONTEXT}]
exten => s,1,Wait(3600)
 same => n,Hangup()
"""

#: The caller's AMI rights: ``originate`` for Originate; ``call`` for Getvar, PlayDTMF and Hangup.


def staff_target(department: Department, index: int) -> str:
    """The department's phone as a lab staff simulator: ``PJSIP/2301`` -> ``Local/2301@nms-lab-staff/n``."""
    m = re.match(r"[A-Za-z0-9]+/([0-9]+)(?:[@/]|$)", department.target or "")
    extension = m.group(1) if m else str(9000 + index)
    return f"Local/{extension}@{STAFF_CONTEXT}/n"


def recordings_directory(instance_name: str) -> PurePosixPath:
    """Where the lab Asterisk records (as Asterisk sees it): inside its own instance directory."""
    return PurePosixPath("/nms") / instance_name / "recordings"


def lab_ivr_config(config: IvrConfig, instance_name: str) -> IvrConfig:
    """The configuration the lab Asterisk runs: staff simulators instead of phones, recordings kept
    in the lab instance's directory. Everything else (DIDs, hours, texts, limits) is the operator's."""
    departments = [d.model_copy(update={"target": staff_target(d, i)}) for i, d in enumerate(config.departments)]
    recordings = config.recordings.model_copy(update={"directory": Path(recordings_directory(instance_name))})
    return config.model_copy(update={"departments": departments, "recordings": recordings})
