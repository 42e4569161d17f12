# ruff: noqa: E501 - the catalog holds whole sentences in two languages
"""The interface's two languages: Korean (default) and English.

One catalog maps a message id to its Korean and English text, so a message can never exist in one
language only. Validation problems (:class:`nms.admin.validation.FieldProblem`) are translated here
too, with the service's own message kept as a fallback.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from typing import Any

from ivr.events import mask_number as _mask

LANGUAGES = ("ko", "en")
TIMEZONE = zoneinfo.ZoneInfo("Asia/Seoul")

CATALOG: dict[str, tuple[str, str]] = {
    # frame and navigation
    "app_title": ("금천구 통신 관리", "Geumcheon-gu telecom admin"),
    "nav_overview": ("현황", "Overview"), "nav_phone": ("전화 (자동응답)", "Phone (IVR)"),
    "nav_network": ("네트워크", "Network"), "nav_history": ("변경 이력", "History"), "nav_users": ("사용자", "Users"),
    "nav_alerts": ("경보", "Alerts"),
    # alerts (Alertmanager)
    "al_firing": ("현재 울리는 경보", "Firing alerts"), "al_none": ("지금 울리는 경보가 없습니다.", "No alert is firing."),
    "al_severity": ("등급", "Severity"), "al_what": ("내용", "What"), "al_since": ("시작", "Since"),
    "sev_critical": ("긴급", "Critical"), "sev_warning": ("주의", "Warning"),
    "al_silence": ("알림 중지", "Silence"), "al_reason": ("사유 (예: 계획 작업)", "Reason (e.g. planned work)"),
    "al_hours": ("시간", "Hours"), "al_device": ("장비", "Device"), "al_by": ("등록자", "By"), "al_until": ("종료", "Until"),
    "al_matchers": ("대상", "Matches"), "al_silences": ("알림 중지 목록", "Silences"),
    "al_no_silences": ("등록된 알림 중지가 없습니다.", "No silence is active."),
    "al_planned": ("계획 작업 알림 중지", "Silence for planned work"),
    "al_planned_hint": ("작업할 장비를 고르면 그 장비와, 스위치라면 그 아래 AP·사이트의 경보 알림이 정한 시간 동안 중지됩니다. 모든 알림 중지는 감사 기록에 남습니다.",
                        "Pick the device to work on: its alerts, and for a switch those of the APs and sites behind it, are silenced for the hours given. Every silence is recorded in the audit log."),
    "al_reason_required": ("알림 중지 사유를 입력하십시오.", "Give a reason for the silence."),
    "al_reason_long": ("사유는 {n}자 이내로 입력하십시오.", "The reason must be at most {n} characters."),
    "al_hours_range": ("시간은 0보다 크고 {max}시간 이하여야 합니다.", "Hours must be above 0 and at most {max}."),
    "al_unknown_device": ("인벤토리에 없는 장비입니다: {name}", "No such device in the inventory: {name}"),
    "al_alert_gone": ("그 경보는 이미 끝났거나 알림이 중지되었습니다.", "That alert has already ended or is silenced."),
    "al_not_configured": ("Alertmanager 주소가 설정되지 않았습니다 (admin.alertmanager_url).", "No Alertmanager is configured (admin.alertmanager_url)."),
    "al_unreachable": ("Alertmanager에 연결할 수 없습니다: {detail}", "Cannot reach Alertmanager: {detail}"),
    "al_silenced": ("알림을 {hours}시간 동안 중지했습니다: {target}", "Silenced for {hours} h: {target}"),
    "ov_alerts": ("현재 울리는 경보", "Firing alerts"), "ov_alerts_all": ("경보 전체 보기", "All alerts"),
    "nav_reports": ("보고서", "Reports"),
    "reports_intro": ("매월 1일 06:00에 전월 보고서(PDF, Excel)를 만듭니다. 연간 보고서와 다른 달은 "
                      "`nms report monthly|yearly` 명령으로 만들 수 있습니다.",
                      "The previous month's report (PDF, Excel) is written on the 1st at 06:00. Yearly reports "
                      "and other months: `nms report monthly|yearly`."),
    "reports_none": ("아직 보고서가 없습니다.", "No reports yet."),
    "report_period": ("기간", "Period"), "report_kind": ("종류", "Kind"), "report_file": ("파일", "File"),
    "report_size": ("크기", "Size"), "report_written": ("작성", "Written"),
    "report_monthly": ("월간", "Monthly"), "report_yearly": ("연간", "Yearly"),
    "site_map": ("사이트 지도", "Site map"),
    "site_map_intro": ("최근 24시간 AP 가용률로 색을 칠한 사이트 {placed}곳 (전체 {total}곳, 좌표가 있는 사이트만).",
                       "{placed} of {total} sites (those with coordinates), coloured by AP availability over the "
                       "last 24 hours."),
    "site_map_none": ("좌표(lat, lon)가 있는 사이트가 없습니다.", "No site has coordinates (lat, lon)."),
    "logout": ("로그아웃", "Log out"), "back_home": ("처음으로", "Back to the overview"),
    "account": ("내 계정", "My account"),
    # login and account
    "login_title": ("로그인", "Log in"), "login": ("로그인", "Log in"), "username": ("아이디", "User name"),
    "password": ("비밀번호", "Password"),
    "login_no_users": ("아직 사용자가 없습니다. 서버에서 `nms admin create-user 이름 --role admin` 으로 첫 사용자를 만드십시오.",
                       "No user exists yet. Create the first one on the server with "
                       "`nms admin create-user NAME --role admin`."),
    "password_current": ("현재 비밀번호", "Current password"), "password_new": ("새 비밀번호", "New password"),
    "password_confirm": ("새 비밀번호 확인", "Confirm the new password"),
    "password_change": ("비밀번호 변경", "Change password"), "password_reset": ("비밀번호 재설정", "Reset password"),
    # roles
    "role_viewer_user": ("조회자", "Viewer"), "role_operator_user": ("운영자", "Operator"),
    "role_admin_user": ("관리자", "Administrator"),
    "roles_hint": ("조회자: 녹음을 제외한 모든 화면 조회 · 운영자: 안내 문구, 운영 시간, 공휴일, 부서, 통화 정책 · "
                   "관리자: 장비 목록, 수집 주기, 사용자, 녹음",
                   "Viewer: reads everything except recordings · Operator: announcements, hours, holidays, "
                   "departments, call policy · Administrator: inventory, polling, users, recordings"),
    # results of a change
    "ok_applied": ("저장했고 바로 적용되었습니다.", "Saved and applied."),
    "ok_saved_not_live": ("저장했습니다. 실행 중인 서비스에는 아직 적용되지 않았습니다: {detail}",
                          "Saved. Not applied to a running service yet: {detail}"),
    "ok_unchanged": ("바뀐 내용이 없습니다.", "Nothing changed."),
    "err_conflict": ("다른 사람이 그사이에 같은 항목을 바꿨습니다. 덮어쓰지 않았습니다. 화면을 새로 고친 뒤 다시 입력해 주십시오.",
                     "Someone else changed the same item meanwhile. Nothing was overwritten: reload the page "
                     "and make your change again."),
    "err_apply_failed": ("적용하지 못해 이전 설정으로 되돌렸습니다. 원인: {detail}",
                         "The change could not be applied, so the previous version was restored. Reason: {detail}"),
    "err_invalid": ("저장하지 않았습니다. 표시된 항목을 고쳐 주십시오.", "Not saved: correct the marked fields."),
    "err_csrf": ("보안 확인 값(CSRF)이 없거나 만료되었습니다. 화면을 새로 고친 뒤 다시 시도해 주십시오.",
                 "The security token (CSRF) is missing or expired. Reload the page and try again."),
    "err_forbidden": ("이 작업을 할 권한이 없습니다.", "You are not allowed to do this."),
    "err_not_found": ("찾을 수 없습니다.", "Not found."),
    "err_too_large": ("파일이 너무 큽니다 (최대 20MB).", "The file is too large (20 MB at most)."),
    "err_login_needed": ("먼저 로그인해 주십시오.", "Please log in first."),
    "err_login": ("아이디 또는 비밀번호가 맞지 않습니다.", "Wrong user name or password."),
    "err_rate_limited": ("로그인 실패가 너무 많습니다. {minutes}분 뒤에 다시 시도해 주십시오.",
                         "Too many failed logins. Try again in {minutes} minute(s)."),
    "ok_logged_out": ("로그아웃했습니다.", "You are logged out."),
    "err_password_current": ("현재 비밀번호가 맞지 않습니다.", "The current password is wrong."),
    "err_password_confirm": ("새 비밀번호 두 개가 서로 다릅니다.", "The two new passwords differ."),
    "err_password_short": ("비밀번호는 {n}자 이상이어야 합니다.", "A password needs at least {n} characters."),
    "err_password_weak": ("비밀번호가 너무 단순합니다.", "The password is too simple."),
    "err_user_name_invalid": ("아이디는 영문 소문자로 시작하고 영문 소문자, 숫자, . _ - 만 쓸 수 있습니다 (2~32자).",
                              "A user name starts with a lower-case letter and has 2-32 of a-z 0-9 . _ -"),
    "err_user_exists": ("이미 있는 아이디입니다: {n}", "That user already exists: {n}"),
    "err_user_unknown": ("없는 사용자입니다.", "No such user."),
    "err_last_admin": ("마지막 관리자는 바꾸거나 끌 수 없습니다.", "The last administrator cannot be changed or disabled."),
    "err_role": ("역할이 올바르지 않습니다.", "Unknown role."),
    "ok_password_changed": ("비밀번호를 바꿨습니다. 새 비밀번호로 다시 로그인해 주십시오.",
                            "Password changed. Log in again with the new password."),
    "ok_user_created": ("사용자 {name}을(를) 만들었습니다.", "User {name} created."),
    "ok_user_updated": ("사용자 {name}을(를) 바꿨습니다.", "User {name} updated."),
    "err_nothing_selected": ("선택한 항목이 없습니다.", "Nothing was selected."),
    "err_audio": ("음성 파일을 만들지 못했습니다: {detail}", "The audio could not be made: {detail}"),
    "err_no_file": ("파일을 선택해 주십시오.", "Choose a file first."),
    "ok_audio_regenerated": ("문구로 음성을 새로 만들었습니다. 다음 통화부터 들립니다.",
                             "The audio was made again from the text; the next call hears it."),
    "ok_audio_uploaded": ("녹음 파일을 적용했습니다. 다음 통화부터 들립니다.",
                          "The recording is in use; the next call hears it."),
    "err_call_gone": ("그 통화는 이미 끝났습니다.", "That call has already ended."),
    "err_hangup": ("통화를 끊지 못했습니다: {detail}", "The call could not be ended: {detail}"),
    "ok_hangup": ("{line}번 회선의 통화를 끊었습니다.", "The call on line {line} was ended."),
    "unknown_version": ("그런 버전이 없습니다: {version}", "No such version: {version}"),
    # common words
    "save": ("저장", "Save"), "add": ("추가", "Add"), "delete": ("삭제", "Delete"), "remove": ("빼기", "Remove"),
    "search": ("찾기", "Search"), "show": ("보기", "Show"), "assign": ("지정", "Assign"),
    "activate": ("선택한 AP 운영 시작", "Activate the selected APs"), "time": ("시각", "Time"),
    "date": ("날짜", "Date"), "name": ("이름", "Name"), "kind": ("종류", "Kind"), "department": ("부서", "Department"),
    "line": ("회선", "Line"), "caller": ("발신 번호", "Caller"), "did": ("수신 번호", "Dialled number"),
    "duration": ("통화 시간", "Duration"), "seconds": ("초", "s"), "minutes_n": ("{n}분", "{n} min"),
    "days_n": ("{n}일", "{n} days"), "file": ("파일", "File"), "size": ("크기", "Size"), "user": ("사용자", "User"),
    "role": ("역할", "Role"), "state": ("상태", "State"), "status": ("운영 상태", "Status"), "site": ("장소", "Site"),
    "category": ("분류", "Category"), "address": ("관리 주소", "Address"), "profile": ("SNMP 프로파일", "SNMP profile"),
    "device": ("장비", "Device"), "model": ("모델", "Model"), "installed": ("설치 연도", "Installed"),
    "credentials": ("인증 설정", "Credentials"), "description": ("설명", "Description"),
    "current": ("현재 버전", "current"), "version": ("버전", "Version"), "author": ("변경한 사람", "By"),
    "change": ("변경 내용", "Change"), "action": ("작업", "Action"), "result": ("결과", "Result"),
    "diff": ("차이 보기", "Diff"), "main_number": ("대표번호", "Main number"), "none_found": ("없습니다.", "None."),
    "enabled": ("사용", "enabled"), "disabled": ("사용 중지", "disabled"), "enable": ("다시 사용", "Enable"),
    "disable": ("사용 중지", "Disable"), "user_new": ("새 사용자", "New user"),
    "confirm_delete": ("정말 삭제하시겠습니까?", "Delete this?"),
    "confirm_hangup": ("이 통화를 끊으시겠습니까?", "End this call?"),
    "confirm_rollback": ("이 버전으로 되돌리시겠습니까? 되돌리기도 새 버전으로 기록됩니다.",
                         "Roll back to this version? The rollback is recorded as a new version."),
    # overview
    "ov_health": ("서비스 상태", "Service health"), "ov_lines": ("사용 중인 회선", "Lines in use"),
    "ov_lines_text": ("지금 {n}개 회선 사용 중 (전체 {total})", "{n} of {total} lines in use now"),
    "ov_ivr_absent": ("자동응답 서비스가 이 서버에서 실행 중이 아닙니다.", "The IVR does not run with this page."),
    "ov_down": ("응답 없는 장비", "Devices down"), "ov_polled": ("대 수집 중", "polled"),
    "ov_down_list": ("응답 없는 장비 목록", "List the devices that are down"),
    "ov_top_sites": ("와이파이 접속자가 많은 곳", "Sites with the most Wi-Fi clients"),
    "ov_no_clients": ("아직 접속자 정보가 없습니다.", "No client counts yet."),
    "ov_events_today": ("오늘의 직원 보호 조치", "Today's protection events"),
    "ov_events_all": ("모든 보호 조치 기록", "All protection events"),
    "ov_no_events": ("보호 조치 기록이 없습니다.", "No protection events."),
    "ov_last_cycle": ("마지막 수집", "last cycle"), "ov_exporters": ("플로 송신 장비 {n}대", "{n} exporter(s)"),
    "svc_snmp": ("장비 수집 (SNMP)", "Device polling (SNMP)"), "svc_flows": ("트래픽 수집 (플로)", "Traffic flows"),
    "svc_ami": ("교환기 연결 (AMI)", "PBX connection (AMI)"),
    "state_ok": ("정상", "running"), "state_down": ("이상", "down"), "state_absent": ("실행 안 함", "not running here"),
    "ami_down": ("교환기 연결 끊김", "PBX disconnected"),
    "kind_warning": ("경고", "Warning"), "kind_termination": ("통화 종료 (폭언)", "Ended (abuse)"),
    "kind_time-limit-end": ("통화 시간 초과 종료", "Ended (time limit)"),
    # phone
    "tab_announcements": ("안내 문구", "Announcements"), "tab_hours": ("운영 시간·공휴일", "Hours & holidays"),
    "tab_departments": ("부서", "Departments"), "tab_policy": ("통화 정책", "Call policy"),
    "tab_calls": ("통화 중", "Live calls"), "tab_events": ("보호 조치 기록", "Protection events"),
    "tab_recordings": ("녹음", "Recordings"),
    "ann_hint": ("문구를 고쳐 저장하면 음성이 새로 만들어지고 다음 통화부터 들립니다. 직접 녹음한 파일을 올릴 수도 있습니다.",
                 "Saving a text makes its audio again; the next call hears it. You can also upload a recording."),
    "ann_save_hint": ("저장하면 음성도 새로 만들어집니다.", "Saving also makes the audio."),
    "ann_regenerate": ("문구로 음성 다시 만들기", "Make the audio again from the text"),
    "ann_upload": ("녹음 파일 올리기", "Upload a recording"),
    "ann_no_audio": ("음성 파일이 없습니다.", "No audio file."),
    "ann_audio_stale": ("음성이 문구와 다릅니다", "audio differs from the text"),
    "src_tts": ("음성 합성", "speech synthesis"), "src_upload": ("녹음 파일", "recording"),
    "src_existing": ("기존 파일", "existing file"), "src_none": ("알 수 없음", "unknown"),
    "ann_staff-protection": ("직원 보호 안내", "Staff protection"), "ann_recording-notice": ("녹음 안내", "Recording notice"),
    "ann_menu": ("부서 선택 메뉴", "Department menu"), "ann_busy": ("회선 모두 통화 중", "All lines busy"),
    "ann_after-hours": ("업무 시간 외", "After hours"), "ann_lunch": ("점심시간", "Lunch break"),
    "ann_holiday": ("공휴일", "Holiday"), "ann_warning-final": ("마지막 경고 (통화 종료)", "Final warning (call ends)"),
    "ann_time-limit-warning": ("통화 시간 종료 예고", "Time limit warning"),
    "ann_time-limit-end": ("통화 시간 종료", "Time limit reached"),
    "ann_warning-1": ("첫 번째 경고", "First warning"), "ann_warning-2": ("두 번째 경고", "Second warning"),
    "ann_warning-3": ("세 번째 경고", "Third warning"),
    "hours_business": ("업무 시간", "Business hours"),
    "hours_hint": ("시간은 24시간제 HH:MM 입니다 (시간대 {tz}). 새 줄을 채우면 시간대가 추가됩니다.",
                   "Times are 24-hour HH:MM ({tz}). Fill the empty row to add a period."),
    "hours_new_row": ("새 시간대", "new period"), "hours_lunch": ("점심시간", "Lunch break"),
    "hours_lunch_on": ("점심시간 안내 사용", "Play the lunch announcement"), "hours_routes": ("안내 뒤 연결", "After the announcement"),
    "route_after_hours": ("업무 시간 외", "After hours"), "route_lunch": ("점심시간", "Lunch"),
    "route_holiday": ("공휴일", "Holiday"), "route_hangup": ("통화 종료", "Hang up"),
    "holidays": ("공휴일", "Holidays"), "days": ("요일", "Days"), "start": ("시작", "Start"), "end": ("끝", "End"),
    "day_mon": ("월", "Mon"), "day_tue": ("화", "Tue"), "day_wed": ("수", "Wed"), "day_thu": ("목", "Thu"),
    "day_fri": ("금", "Fri"), "day_sat": ("토", "Sat"), "day_sun": ("일", "Sun"),
    "dids": ("직통 번호", "Direct numbers (DIDs)"), "dids_hint": ("여러 개는 쉼표로 구분", "separate with commas"),
    "target": ("연결 대상", "Staff target"), "target_hint": ("예: PJSIP/2301", "e.g. PJSIP/2301"),
    "dept_protection": ("직원 보호 안내·경고", "Protection announcement and warnings"),
    "dept_recording": ("통화 녹음", "Call recording"), "dept_menu": ("대표번호 메뉴", "Main-number menu"),
    "menu_digit": ("메뉴 번호", "Menu digit"), "ring_timeout": ("호출 시간", "Ring time"),
    "dept_new": ("새 부서", "New department"), "dept_id": ("부서 ID", "Department id"),
    "dept_id_hint": ("영문 소문자·숫자·-·_ (예: welfare2)", "lower-case letters, digits, - and _ (e.g. welfare2)"),
    "policy_limit": ("통화 시간 제한", "Call time limit"),
    "policy_limit_hint": ("상담 시작부터 센 시간입니다. 예고 안내 뒤 종료 안내와 함께 통화가 끝납니다.",
                          "Counted from the answer: a warning, then the end announcement and the call ends."),
    "warning_after": ("종료 예고 시점", "Warn after"), "end_after": ("통화 종료 시점", "End after"),
    "policy_warnings": ("폭언 경고", "Abuse warnings"),
    "policy_warnings_hint": ("직원이 경고 키를 누를 때마다 경고 안내가 나가고, 정한 횟수째에는 마지막 경고 후 통화가 끝납니다.",
                             "Each press of the staff warning key plays a warning; at the set count the final "
                             "warning plays and the call ends."),
    "warning_key": ("직원 경고 키", "Staff warning key"),
    "warnings_before_end": ("종료까지 경고 횟수", "Warnings before the end"),
    "no_calls": ("지금 통화가 없습니다.", "No calls now."), "hangup": ("통화 끊기", "End call"),
    "events_days": ("기간", "Period"),
    "events_privacy": ("발신 번호는 개인정보이므로 가려서 보여 줍니다. 같은 표시는 같은 발신자입니다.",
                       "Caller numbers are personal data and shown masked; the same tag means the same caller."),
    "same_caller": ("발신자 표시", "Caller tag"),
    "rec_retention": ("녹음은 {days}일 동안 보관한 뒤 자동으로 삭제됩니다. 녹음을 들으면 기록이 남습니다.",
                      "Recordings are kept {days} days, then deleted automatically. Listening is logged."),
    "rec_left": ("삭제까지", "Deleted in"), "rec_none": ("녹음이 없습니다.", "No recordings."),
    # network
    "tab_inventory": ("장비 목록", "Inventory"), "tab_planned": ("2022 신규 AP", "Planned 2022 APs"),
    "tab_polling": ("수집 주기·프로파일", "Polling & profiles"),
    "search_hint": ("이름, 장소, 주소 검색", "name, site, address"), "all_categories": ("모든 분류", "All categories"),
    "all_roles": ("모든 종류", "All roles"), "all_statuses": ("모든 운영 상태", "All statuses"),
    "all_states": ("모든 상태", "All states"), "all_sites": ("모든 장소", "All sites"),
    "any_profile": ("현재 프로파일 상관없이", "any current profile"),
    "n_devices": ("장비 {n}대", "{n} devices"), "n_devices_short": ("장비 수", "Devices"),
    "n_planned": ("설치 예정 {n}대", "{n} planned"),
    "cat_government": ("관공서", "Government"), "cat_park": ("공원", "Parks"), "cat_welfare": ("복지시설", "Welfare"),
    "cat_market": ("전통시장", "Markets"), "cat_street": ("주요거리", "Streets"),
    "role_backbone": ("백본 스위치", "Backbone switch"), "role_access": ("스위치", "Access switch"),
    "role_ips": ("침입방지시스템", "IPS"), "role_ap": ("무선 AP", "Wi-Fi AP"), "role_host": ("서버", "Server"),
    "status_active": ("운영", "active"), "status_planned": ("설치 예정", "planned"), "status_disabled": ("중지", "disabled"),
    "dev_up": ("정상", "up"), "dev_down": ("응답 없음", "down"), "dev_unknown": ("모름", "unknown"),
    "dev_status_now": ("지금 상태 (수집기)", "Current status (collector)"), "dev_details": ("장비 정보", "Details"),
    "dev_not_polled": ("수집하지 않는 장비입니다 (설치 예정·중지, 또는 수집기가 실행 중이 아님).",
                       "Not polled (planned or disabled, or no collector runs here)."),
    "dev_no_poll_yet": ("아직 수집하지 않았습니다.", "Not polled yet."), "dev_last_poll": ("마지막 수집", "last poll"),
    "dev_error": ("오류", "Error"), "dev_last_ok": ("마지막 정상 응답", "Last answer"), "dev_uptime": ("가동 시간", "Uptime"),
    "dev_clients": ("접속 단말", "Clients"), "dev_interfaces": ("인터페이스", "Interfaces"),
    "dev_polls": ("수집 횟수", "Polls"), "dev_errors": ("오류", "errors"), "dev_reboots": ("재부팅 감지", "Reboots seen"),
    "planned_hint": ("2022년 계획으로 등록된 AP입니다 (독산로 지중화 구간, 금천체육공원, 삼각공원). 설치가 끝난 AP를 골라 운영을 시작하면 바로 수집됩니다.",
                     "APs of the 2022 plan (Doksan-ro section, Geumcheon Sports Park, Samgak Park). Activate the "
                     "installed ones: polling starts at once."),
    "planned_none": ("설치 예정인 AP가 없습니다.", "No planned APs."),
    "polling_intervals": ("수집 주기", "Polling intervals"),
    "polling_hint": ("장비 종류마다 몇 초에 한 번 수집할지 정합니다. 저장하면 수집기를 다시 시작하지 않고 바로 적용됩니다.",
                     "Seconds between polls per device class; applied at once, without a restart."),
    "interval": ("주기 (초)", "Interval (s)"), "timeout": ("응답 대기 (초)", "Timeout (s)"), "retries": ("재시도", "Retries"),
    "jitter": ("시작 분산 비율", "Jitter"), "concurrency": ("동시 수집 수", "Concurrency"),
    "profiles": ("SNMP 프로파일", "SNMP profiles"), "profile_assign": ("프로파일 일괄 지정", "Assign a profile"),
    # history
    "audit_log": ("감사 기록 (누가 언제 무엇을)", "Audit log"),
    "file_ivr": ("자동응답 설정", "IVR configuration"), "file_inventory": ("장비 목록", "Inventory"),
    "file_settings": ("서비스 설정 (수집 주기)", "Service settings (polling)"),
    "history_none": ("아직 기록이 없습니다.", "No history yet."), "history_all": ("전체 {n}개 보기", "All {n} versions"),
    "rollback_to": ("이 버전({v})으로 되돌리기", "Roll back to {v}"),
    "diff_prev": ("이전 버전과 달라진 점", "Changes from the previous version"),
    "diff_current": ("이 버전과 현재 버전의 차이", "Differences to the current version"),
    "result_applied": ("적용됨", "applied"), "result_saved": ("저장됨 (미적용)", "saved (not live)"),
    "result_restored": ("실패·복구됨", "failed, restored"), "result_refused": ("거부됨", "refused"),
    "result_conflict": ("충돌 (덮어쓰지 않음)", "conflict (not overwritten)"), "result_done": ("완료", "done"),
    # validation
    "v_required": ("꼭 입력해야 합니다.", "This is required."),
    "v_pattern": ("형식이 맞지 않습니다.", "The format is not right."),
    "v_gt": ("{gt}보다 커야 합니다.", "Must be greater than {gt}."),
    "v_ge": ("{ge} 이상이어야 합니다.", "Must be at least {ge}."),
    "v_lt": ("{lt}보다 작아야 합니다.", "Must be less than {lt}."),
    "v_le": ("{le} 이하여야 합니다.", "Must be at most {le}."),
    "v_int": ("정수를 입력해 주십시오.", "Enter a whole number."),
    "v_number": ("숫자를 입력해 주십시오.", "Enter a number."),
    "v_bool": ("예/아니오 값이 아닙니다.", "Not a yes/no value."),
    "v_date": ("날짜는 YYYY-MM-DD 형식으로 입력해 주십시오.", "Enter the date as YYYY-MM-DD."),
    "v_text_short": ("비워 둘 수 없습니다.", "This cannot be empty."),
    "v_list_short": ("하나 이상 있어야 합니다.", "At least one is needed."),
    "v_choice": ("허용되지 않는 값입니다.", "Not an allowed value."),
    "v_extra": ("알 수 없는 항목입니다.", "Unknown setting."), "v_text": ("글자를 입력해 주십시오.", "Enter text."),
    "v_ip": ("IP 주소 형식이 아닙니다.", "Not an IP address."), "v_list": ("목록이어야 합니다.", "Must be a list."),
    "v_dept_id_twice": ("부서 ID '{id}'가 이미 있습니다.", "Department id '{id}' is used twice."),
    "v_dept_no_target": ("부서 '{id}'의 연결 대상(예: PJSIP/2301)이 없습니다.",
                         "Department '{id}' has no staff target (e.g. PJSIP/2301)."),
    "v_did_main": ("번호 {did}는 대표번호와 같습니다.", "Number {did} is the main number."),
    "v_did_twice": ("번호 {did}는 이미 부서 '{id}'에서 쓰고 있습니다.", "Number {did} is already used by department '{id}'."),
    "v_digit_twice": ("메뉴 번호 {digit}는 이미 부서 '{id}'에서 쓰고 있습니다.",
                      "Menu digit {digit} is already used by department '{id}'."),
    "v_dept_unreachable": ("부서 '{id}'로 연결될 방법이 없습니다. 직통 번호나 메뉴 번호를 넣어 주십시오.",
                           "Department '{id}' is unreachable: give it a direct number or a menu digit."),
    "v_menu_empty": ("메뉴 번호가 있는 부서가 하나도 없어 대표번호 메뉴가 비게 됩니다.",
                     "No department has a menu digit: the main number's menu would be empty."),
    "v_ann_unknown": ("알 수 없는 안내 문구 '{key}'입니다.", "Unknown announcement '{key}'."),
    "v_ann_unplayed": ("'{key}'는 재생되지 않습니다 ({n}번째가 마지막 경고).",
                       "'{key}' is never played (warning {n} is the last)."),
    "v_ann_missing": ("안내 문구 '{key}'가 없습니다.", "Announcement '{key}' is missing."),
    "v_ann_empty": ("안내 문구를 비워 둘 수 없습니다.", "An announcement cannot be empty."),
    "v_route": ("연결 대상 '{route}'는 '통화 종료'도 부서도 아닙니다.", "Route '{route}' is neither hang-up nor a department."),
    "v_limit_order": ("종료 예고 시점은 통화 종료 시점보다 빨라야 합니다.", "The warning must come before the end."),
    "v_timezone": ("알 수 없는 시간대 '{tz}'입니다.", "Unknown time zone '{tz}'."),
    "v_hours_overlap": ("업무 시간 {a}와 {b}가 겹칩니다 ({day}).", "Business hours {a} and {b} overlap ({day})."),
    "v_day_twice": ("같은 요일이 두 번 있습니다.", "A day is listed twice."),
    "v_lunch_outside": ("점심시간 {lunch}가 업무 시간 안에 있지 않습니다.", "Lunch {lunch} is not inside business hours."),
    "v_holiday_twice": ("공휴일 {date}가 이미 있습니다.", "Holiday {date} is listed twice."),
    "v_start_end": ("시작({start})이 끝({end})보다 앞서야 합니다.", "The start ({start}) must be before the end ({end})."),
    "v_site_twice": ("장소 ID '{id}'가 중복됩니다.", "Site id '{id}' is used twice."),
    "v_device_twice": ("장비 이름 '{name}'이 중복됩니다.", "Device name '{name}' is used twice."),
    "v_address_twice": ("관리 주소 {address}:{port}를 {name}도 쓰고 있습니다.",
                        "Address {address}:{port} is also used by {name}."),
    "v_site_unknown": ("없는 장소 '{id}'입니다.", "Unknown site '{id}'."),
    "v_profile_unknown": ("없는 SNMP 프로파일 '{profile}'입니다 (있는 것: {known}).",
                          "Unknown SNMP profile '{profile}' (known: {known})."),
    "v_credentials_unknown": ("없는 인증 설정 '{name}'입니다.", "Unknown credential set '{name}'."),
    "v_other": ("설정 오류: {message}", "Invalid: {message}"),
}

#: Telephony for a real case: the change in words, drafts, the case file, export, holidays import.
CATALOG.update({
    "chg_unreadable": ("이 버전은 읽을 수 없는 YAML입니다.", "This version is not readable YAML."),
    "chg_ann": ("{name} 문구 변경: {old} → {new}", "{name} text changed: {old} → {new}"),
    "chg_ann_added": ("{name} 문구 추가: {new}", "{name} text added: {new}"),
    "chg_ann_removed": ("{name} 문구 삭제", "{name} text removed"),
    "chg_business": ("운영 시간 {old} → {new}", "Business hours {old} → {new}"),
    "chg_lunch": ("점심시간 {old} → {new}", "Lunch break {old} → {new}"),
    "chg_none": ("없음", "none"),
    "chg_holidays_added": ("공휴일 {n}일 추가: {items}", "{n} holidays added: {items}"),
    "chg_holidays_removed": ("공휴일 {n}일 삭제: {items}", "{n} holidays removed: {items}"),
    "chg_holidays_renamed": ("공휴일 {n}일 이름 변경: {items}", "{n} holidays renamed: {items}"),
    "chg_holidays_until": ("공휴일 목록 적용 기간 끝 {old} → {new}", "Holiday list covers until {old} → {new}"),
    "chg_routes": ("운영 시간 외 연결 {old} → {new}", "Closed-time routes {old} → {new}"),
    "chg_dept_added": ("부서 추가: {name}", "Department added: {name}"),
    "chg_dept_removed": ("부서 삭제: {name}", "Department removed: {name}"),
    "chg_dept": ("부서 {name} 변경: {fields}", "Department {name} changed: {fields}"),
    "chg_setting": ("{what} 변경: {old} → {new}", "{what} changed: {old} → {new}"),
    "chg_call_limit": ("통화 시간 제한", "Call time limit"), "chg_protection": ("폭언 경고 정책", "Warning policy"),
    "chg_lines": ("회선 수", "Lines"), "chg_main_number": ("대표 번호", "Main number"),
    "chg_other": ("기타 설정 변경: {key}", "Other setting changed: {key}"),
    "chg_words": ("바뀐 내용", "What changed"), "chg_nothing": ("바뀐 내용이 없습니다.", "Nothing changed."),
    "chg_yaml": ("YAML 차이 (자세히)", "YAML diff (details)"),
    "draft_make": ("초안 만들기 (미리 듣기)", "Make a draft (preview)"),
    "draft_hint": ("초안은 전화에 나가지 않습니다. 들어 보고 게시하면 다음 통화부터 이 음성이 나갑니다.",
                   "A draft is not played to callers. Listen to it, then publish: the next call hears exactly this audio."),
    "draft_title": ("초안", "Draft"), "draft_publish": ("게시", "Publish"), "draft_discard": ("초안 버리기", "Discard draft"),
    "draft_made": ("초안 음성을 만들었습니다. 들어 보고 게시하십시오.", "The draft audio is ready. Listen, then publish."),
    "draft_same": ("초안이 지금 게시된 문구와 같습니다.", "The draft is the same as the published text."),
    "draft_empty": ("문구를 입력하십시오.", "Enter a text."),
    "draft_by": ("{user}, {when}", "{user}, {when}"),
    "ann_previous": ("이전 문구로 되돌리기", "Back to the previous text"),
    "ann_previous_none": ("이전 문구가 없습니다.", "There is no previous text."),
    "ann_previous_confirm": ("이전 문구 {text} 를 바로 게시할까요?", "Publish the previous text {text} now?"),
    "event_title": ("보호 조치 기록", "Protection event"),
    "event_earlier": ("같은 발신자의 이전 기록", "Earlier events, same caller"),
    "event_30d": ("최근 30일", "last 30 days"), "event_365d": ("최근 1년", "last year"),
    "event_withheld": ("발신 번호 표시 제한", "number withheld"),
    "event_no_history": ("발신 번호가 없어 이전 기록을 셀 수 없습니다.", "No number, so no history can be counted."),
    "event_recording": ("녹음", "Recording"), "event_no_recording": ("녹음 없음", "No recording"),
    "event_listen_logged": ("녹음을 들으면 감사 기록에 남습니다.", "Every listen is recorded in the audit log."),
    "kind_label_warning": ("{n}차 경고", "Warning {n}"),
    "hold_title": ("법적 보존 (보관 기간 이후에도 보관)", "Legal hold (kept past retention)"),
    "hold_reason": ("사유", "Reason"), "hold_until": ("보존 기한", "Hold until"), "hold_place": ("보존", "Hold"),
    "hold_release": ("보존 해제", "Release hold"), "hold_active": ("{until}까지 보존 중: {reason} ({user})",
                                                               "Held until {until}: {reason} ({user})"),
    "hold_placed": ("보존 조치했습니다.", "The hold is in place."), "hold_released": ("보존을 해제했습니다.", "The hold was released."),
    "hold_bad": ("보존할 수 없습니다: {detail}", "Cannot hold: {detail}"),
    "hold_err_no-reason": ("사유를 입력하십시오", "enter a reason"),
    "hold_err_reason-too-long": ("사유는 500자 이내로 입력하십시오", "the reason is limited to 500 characters"),
    "hold_err_expiry-past": ("보존 기한은 오늘 이후여야 합니다", "the hold must end after today"),
    "hold_err_unknown-event": ("없는 기록입니다", "no such event"),
    "hold_err_bad-date": ("보존 기한은 YYYY-MM-DD 형식입니다", "the date must be YYYY-MM-DD"),
    "holds_list": ("보존 중인 기록", "Items on hold"), "holds_none": ("보존 중인 기록이 없습니다.", "Nothing is on hold."),
    "export_title": ("내보내기 (CSV)", "Export (CSV)"), "export_from": ("시작일", "From"), "export_to": ("종료일", "To"),
    "export_dept": ("부서", "Department"), "export_all": ("모든 부서", "All departments"),
    "export_button": ("CSV 내려받기", "Download CSV"),
    "export_hint": ("엑셀에서 바로 열리는 UTF-8 CSV입니다. 발신 번호는 가린 형태로만 들어갑니다.",
                    "UTF-8 CSV that opens in Excel; caller numbers are masked."),
    "export_bad_range": ("날짜 범위가 잘못되었습니다 (YYYY-MM-DD, 시작일 ≤ 종료일, 최대 366일).",
                         "Bad date range (YYYY-MM-DD, from ≤ to, at most 366 days)."),
    "csv_time": ("일시", "Time"), "csv_department": ("부서", "Department"), "csv_kind": ("구분", "Kind"),
    "csv_line": ("회선", "Line"), "csv_did": ("착신 번호", "Dialled number"), "csv_caller": ("발신 번호(가림)", "Caller (masked)"),
    "csv_event": ("기록 번호", "Event id"),
    "heatmap_title": ("부서별 일자별 보호 조치 (최근 {days}일)", "Protection events per department and day (last {days} days)"),
    "heatmap_cell": ("{dept} {day}: {n}건", "{dept} {day}: {n}"),
    "hol_import": ("공휴일 가져오기", "Import public holidays"),
    "hol_import_hint": ("python-holidays({source})의 대한민국 공휴일(대체공휴일 포함)을 가져옵니다. 바뀌는 날짜를 확인하고 승인해야 반영됩니다. 출처가 서로 다르면 정부(인사혁신처·행정안전부)의 공식 발표가 우선입니다. 지역 휴무일은 직접 추가하십시오.",
                        "Korean public holidays (substitute holidays included) from python-holidays ({source}). Nothing changes until you approve the dates shown. When sources disagree, the government's official announcement is authoritative. Add local closures by hand."),
    "hol_years": ("연도", "Years"), "hol_preview": ("미리 보기", "Preview"), "hol_approve": ("승인하고 반영", "Approve and apply"),
    "hol_added": ("추가되는 날", "Added"), "hol_removed": ("빠지는 날", "Removed"), "hol_renamed": ("이름이 바뀌는 날", "Renamed"),
    "hol_no_change": ("바뀌는 날짜가 없습니다.", "No dates change."),
    "hol_local": ("지역 휴무일 (직접 추가, 가져오기로 지워지지 않음)", "Local closure (added by hand, never removed by an import)"),
    "hol_covers": ("공휴일 목록은 {date}까지입니다.", "The holiday list covers until {date}."),
    "hol_stale": ("공휴일 목록이 곧 끝납니다 ({date}). 가져오기로 다음 해를 추가하십시오.",
                  "The holiday list ends soon ({date}). Import the next year."),
})


def translate(msg_id: str, lang: str, /, **kwargs: Any) -> str:
    entry = CATALOG.get(msg_id)
    if entry is None:
        return msg_id
    text = entry[0] if lang != "en" else entry[1]
    if kwargs:
        try:
            return text.format(**kwargs)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def current_language() -> str:
    from flask import g, has_request_context

    return getattr(g, "lang", "ko") if has_request_context() else "ko"


def translate_current(msg_id: str, /, **kwargs: Any) -> str:
    return translate(msg_id, current_language(), **kwargs)


def choose_language(session_lang: str | None, user: Any, default: str) -> str:
    for lang in (session_lang, getattr(user, "language", None), default):
        if lang in LANGUAGES:
            return lang
    return "ko"


def role_label(role: Any) -> str:
    return translate_current(f"role_{role.label}_user")


def problem_text(problem: Any) -> str:
    args = {k: v for k, v in problem.args.items()}
    text = translate_current(problem.code, **args)
    return text if text != problem.code else (problem.raw or problem.code)


def format_time(ts: float | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(float(ts), TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def format_ago(ts: float | None) -> str:
    if not ts:
        return ""
    seconds = max(0, int(time.time() - float(ts)))
    ko = current_language() != "en"
    if seconds < 60:
        return f"{seconds}초 전" if ko else f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60}분 전" if ko else f"{seconds // 60} min ago"
    return format_time(ts)


def mask_number(number: str | None) -> str:
    return _mask(number or "")
