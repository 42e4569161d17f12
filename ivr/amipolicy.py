"""The AMI accounts manager.conf grants: the account type, and the controller's least-privilege account
(which classes it may read and write, which events Asterisk sends it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AmiUser:
    """An AMI account to write into manager.conf.

    ``eventfilters`` are manager.conf ``eventfilter`` lines (``KEY = VALUE``, e.g.
    ``eventfilter(action(include),name(Hangup)) =``); with none, the account gets every event of its
    ``read`` classes.
    """

    name: str
    secret: str
    read: tuple[str, ...]
    write: tuple[str, ...]
    eventfilters: tuple[str, ...] = ()


#: The controller's least-privilege account and why each class is needed:
#: read  call (Hangup events), user (UserEvent), system (Shutdown, trunk Registry/ContactStatus);
#: write reporting only: Getvar, CoreShowChannels, DBGetTree, DeviceStateList (the trunk's
#:       reachability; PJSIPShowEndpoint/PJSIPShowRegistrationsOutbound need ``system`` and are
#:       answered "permission denied", so the trunk state comes from events). It may change nothing: ``config`` or
#:       ``system`` would grant GetConfig (every secret), ``call`` Redirect and Setvar (toll fraud),
#:       ``originate``/``command`` speak for themselves. Reload, Hangup and DBDel go through
#:       Asterisk's control socket instead (ivr.control), guarded by file permissions.
CONTROLLER_READ = ("call", "user", "system")
CONTROLLER_WRITE = ("reporting",)
#: Of everything those classes carry, the controller handles only its own UserEvents and Hangup
#: (Shutdown lets panoramisk see a clean stop at once). Asterisk drops the rest before it is
#: written to the socket: in the 60-call bench that was 4 of every 5 messages (Newchannel, Newstate,
#: DialBegin/End, BridgeEnter/Leave, ...), which the controller would otherwise parse and discard.
#: Action responses (CoreShowChannel, DBGetTreeResponse) are not events and are never filtered.
CONTROLLER_EVENTS = (
    "eventfilter(action(include),name(UserEvent),header(UserEvent),method(starts_with)) = Nms",
    "eventfilter(action(include),name(Hangup)) =",
    "eventfilter(action(include),name(Shutdown)) =",
    # The carrier trunk's health (ivr.trunk): registration, qualify results.
    "eventfilter(action(include),name(Registry)) =",
    "eventfilter(action(include),name(ContactStatus)) =",
    "eventfilter(action(include),name(PeerStatus)) =",
)


def controller_account(username: str, secret: str) -> AmiUser:
    """The controller's own AMI account: its classes and event filters above, nothing more."""
    return AmiUser(username, secret, CONTROLLER_READ, CONTROLLER_WRITE, CONTROLLER_EVENTS)
