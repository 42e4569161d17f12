"""Calls through the real Asterisk 22: line limit, staff warnings, call time limit.

What happened is checked through the test's own AMI view (Newexten/UserEvent/Hangup events) and the
Asterisk log, and compared with what the controller stored and counts.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from tests import ivr_fixtures
from tests.ivr_fixtures import config_data, run

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory


def _metrics(service) -> str:
    registry = CollectorRegistry()
    for c in service.collectors():
        registry.register(c)
    return generate_latest(registry).decode()


def _caller_channels(client, did: str) -> set[str]:
    return {e.get("Channel") for e in client.events if e.get("Event") == "Newchannel"
            and e.get("Channel", "").startswith(f"Local/{did}@from-pstn") and e.get("Channel").endswith(";2")}


def test_line_limit_sixty_then_busy(ivr_lab_factory) -> None:
    lab = ivr_lab_factory()
    service = lab.service()
    protected = [d.dids[0] for d in lab.config.departments if d.protection]

    async def scenario() -> None:
        await service.start()
        async with lab.client() as client:
            await service.controller.ready.wait()
            for i in range(60):
                await client.call(protected[i % len(protected)], caller=f"0101234{i:04d}")
            staff_dials = lambda: [e for e in client.events if e.get("Event") == "Newexten"  # noqa: E731
                                   and e.get("Application") == "Dial"]
            await client.wait_until(lambda: len(staff_dials()) == 60, 90, "60 calls dialling staff")
            # Every one of the 60 heard staff-protection before its staff was dialled.
            for dial in staff_dials():
                chan = dial.get("Channel")
                order = [e.get("AppData") for e in client.events if e.get("Channel") == chan
                         and e.get("Event") == "Newexten" and e.get("Application") in ("Playback", "Dial")]
                assert order.index("nms/staff-protection") < order.index(next(a for a in order if "@" in a))
            await client.wait_until(lambda: service.stats.lines_in_use == 60, 10, "controller sees 60 lines")
            assert client.playbacks("nms/busy") == []

            await client.call(protected[0], caller="01099999999")
            busy = await client.wait_until(lambda: client.playbacks("nms/busy"), 20, "the 61st call plays busy")
            assert len(busy) == 1
            ends = await client.wait_until(
                lambda: [e for e in client.user_events("NmsCallEnd") if e.get("Outcome") == "busy"], 20)
            assert ends[0].get("Channel") == busy[0].get("Channel")
            await client.wait_until(lambda: service.stats.calls["busy"] == 1, 10, "busy counted")
            assert service.stats.lines_in_use == 60
            assert len(client.playbacks("nms/staff-protection")) == 60
            text = _metrics(service)
            assert "nms_ivr_lines_in_use 60.0" in text
            assert 'nms_ivr_calls_total{outcome="busy"} 1.0' in text
            assert "nms_ivr_ami_connected 1.0" in text
            # The live call list agrees with Asterisk.
            calls = service.controller.live_calls()
            assert sorted(c["line"] for c in calls) == list(range(1, 61))
        await service.stop()

    run(scenario(), timeout=180)


def test_staff_warnings_then_end(ivr_lab_factory) -> None:
    lab = ivr_lab_factory()
    service = lab.service()
    dept = lab.config.departments[0]
    did = dept.dids[0]
    number = "01055551234"

    async def scenario() -> None:
        await service.start()
        async with lab.client() as client:
            await service.controller.ready.wait()
            await client.call(did, caller=number)
            staff = await client.wait_until(lambda: _staff(client), 30, "staff answered")
            staff_chan = staff[0]
            caller = next(iter(_caller_channels(client, did)))
            # The caller pressing the same keys triggers nothing.
            await client.press(caller, lab.config.protection.warning_key)
            for n, sound in enumerate(("nms/warning-1", "nms/warning-2", "nms/warning-final"), start=1):
                await client.press(staff_chan, lab.config.protection.warning_key)
                plays = await client.wait_until(lambda s=sound: client.playbacks(s), 15, sound)
                assert plays[0].get("Channel") == caller  # the caller hears it, not the staff
                await client.wait_until(lambda n=n: len(client.user_events("NmsProtection")) == n, 10)
            await client.wait_until(lambda: any(e.get("Event") == "Hangup" and e.get("Channel") == caller
                                                for e in client.events), 15, "the call is ended")
            events = client.user_events("NmsProtection")
            assert [e.get("Kind") for e in events] == ["warning", "warning", "termination"]
            assert {e.get("Channel") for e in events} == {caller}
            await client.wait_until(lambda: service.store.count() == 3, 10, "3 events stored")
        await service.stop()

    run(scenario())
    stored = service.store.events()
    assert [e["kind"] for e in stored] == ["warning", "warning", "termination"]
    assert [e["seq"] for e in stored] == [1, 2, 3]
    for e in stored:
        assert e["department"] == dept.id and e["line"] == 1 and e["did"] == did
        assert number not in str(e) and e["caller_mask"] == "010****1234"
        assert e["recording"] and e["recording"].startswith(f"{dept.id}/")
    assert len({e["caller_hash"] for e in stored}) == 1
    assert (lab.config.recordings.local_directory / stored[0]["recording"]).is_file()
    text = _metrics(service)
    assert f'nms_ivr_protection_events_total{{department="{dept.id}",kind="warning"}} 2.0' in text
    assert f'nms_ivr_protection_events_total{{department="{dept.id}",kind="termination"}} 1.0' in text


def _staff(client) -> list[str]:
    return [e.get("DestChannel") for e in client.events if e.get("Event") == "DialEnd"
            and e.get("DialStatus") == "ANSWER" and "@nms-lab-staff" in (e.get("DestChannel") or "")]


def test_call_time_limit(ivr_lab_factory) -> None:
    warn, end = 2, 4
    lab = ivr_lab_factory()
    service = lab.service()
    did = lab.config.departments[0].dids[0]
    short = config_data(ports=(lab.config.ami.port, lab.config.sip.port),
                        call_limit={"warning_after": warn, "end_after": end})
    path = ivr_fixtures.write_config(lab.run_dir / "short", short)

    async def scenario() -> None:
        await service.start()
        async with lab.client() as client:
            await service.controller.ready.wait()
            await service.reload_async(path)  # also proves reload: render, AMI reload, verify
            await client.call(did)
            answered = await client.wait_until(lambda: [e for e in client.events if e.get("Event") == "DialEnd"
                                                        and e.get("DialStatus") == "ANSWER"
                                                        and "@nms-lab-staff" in (e.get("DestChannel") or "")], 30)
            t_answer = float(answered[0].get("Timestamp"))
            ends = await client.wait_until(
                lambda: [e for e in client.user_events("NmsProtection") if e.get("Kind") == "time-limit-end"],
                end + 15, "time-limit end")
            t_end = float(ends[0].get("Timestamp"))
            await client.wait_until(lambda: service.store.count() == 1, 10)
        await service.stop()
        return t_answer, t_end

    t_answer, t_end = run(scenario())
    warnings = lab.played("nms/time-limit-warning")
    finals = lab.played("nms/time-limit-end")
    assert warnings, "the time-limit warning was never played"
    assert finals, "the time-limit end announcement was never played"
    # On time: not before the configured moment, and not long after it.
    assert warn - 0.5 <= warnings[0] - t_answer <= warn + 5
    assert end - 0.5 <= t_end - t_answer <= end + 5
    assert service.store.events()[0]["kind"] == "time-limit-end"
