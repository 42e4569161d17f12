"""The lab's telephone traffic: simulated citizens who call the district and staff who answer (lab only).

Two halves:

* **Staff** (:mod:`lab.calls.staff`). The lab Asterisk runs its own copy of ivr.yaml
  (:func:`lab_ivr_config`) in which each department's phone (``PJSIP/2301``) becomes
  ``Local/2301@nms-lab-staff/n``, a dialplan staff member (:data:`STAFF_DIALPLAN`) who rings for a few
  seconds and answers. The shipped ivr.yaml and its production rendering are not touched.
* **Callers.** A detached process (``python -m lab.calls``, started by :func:`start_caller`,
  :mod:`lab.calls.process`) originates calls over AMI into ``from-pstn`` with the configured DIDs and
  made-up caller numbers (:mod:`lab.calls.caller`). The rate follows the Seoul clock and the configured
  hours (:class:`TrafficModel`, :mod:`lab.calls.traffic`): a few calls at once in office hours, a trickle
  at night, and now and then a burst towards the line limit, so the busy prompt is heard. Now and then a
  caller is abusive and the staff press the warning key (AMI ``PlayDTMF`` with ``Receive`` on the staff
  leg), which raises warnings and sometimes a termination. The caller's AMI account
  (:mod:`lab.calls.account`) may originate and act on calls, and reads no events.

The caller numbers look like personal data (010-xxxx-xxxx); the IVR controller hashes and masks them,
and this package logs them masked only.
"""

from lab.calls.account import CALLER_SECRET, CALLER_USER, caller_ami_user
from lab.calls.process import start_caller
from lab.calls.staff import STAFF_DIALPLAN, lab_ivr_config
from lab.calls.traffic import TrafficModel

__all__ = ["CALLER_SECRET", "CALLER_USER", "STAFF_DIALPLAN", "TrafficModel", "caller_ami_user", "lab_ivr_config",
           "start_caller"]
