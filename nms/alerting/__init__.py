"""Alert delivery beyond e-mail: Alertmanager's webhook -> this relay -> the office messenger or SMS gateway.

Alertmanager posts its webhook (``configs/alertmanager/alertmanager.yml``, receivers ``*-urgent``)
to :class:`~nms.alerting.service.AlertRelayService`, which checks the bearer token, answers at
once, and forwards a short Korean message to one configurable HTTP endpoint with retries, keeping a
bounded delivery log (no secrets) in a file.
"""
